from django.core.paginator import Paginator
from django.shortcuts import render

from clinic.users.access import staff_required

from .selectors import patient_search

PAGE_SIZE = 25


@staff_required
def patient_list(request):
    """The clinician's home: a searchable patient list. The patients issue builds the chart."""
    query = request.GET.get("q", "")
    page = Paginator(patient_search(query=query), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "patients/patient_list.html", {"page": page, "query": query})
