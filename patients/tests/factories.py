from datetime import date

import factory

from patients.models import Patient, Sex
from patients.services import next_mrn


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    mrn = factory.LazyFunction(next_mrn)
    legal_first_name = factory.Faker("first_name")
    legal_last_name = factory.Faker("last_name")
    date_of_birth = factory.Faker(
        "date_between", start_date=date(1940, 1, 1), end_date=date(2004, 1, 1)
    )
    sex = Sex.UNKNOWN
    # Area code 984: tests type 919 numbers and must never collide with a factory one.
    phone = factory.Sequence(lambda n: f"+1984555{n % 10000:04d}")
    email = factory.Sequence(lambda n: f"patient{n}@example.org")
