"""No Docker engine runs here: check that the deployment files say what they must."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_names_the_stack():
    services = compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)


def test_postgres_has_a_healthcheck_and_a_volume():
    spec = compose()
    postgres = spec["services"]["postgres"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in spec["volumes"]
    assert postgres["image"].startswith("postgres:")


def test_app_services_are_built_from_the_dockerfile_with_the_right_commands():
    services = compose()["services"]
    for name in ("web", "worker", "beat"):
        assert services[name]["build"] == ".", name
        assert services[name]["environment"]["DJANGO_SETTINGS_MODULE"] == (
            "clinic.settings.production"
        )
    assert services["web"]["command"][0] == "gunicorn"
    assert services["worker"]["command"][:4] == ["celery", "-A", "clinic", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "clinic", "beat"]
    assert (ROOT / "Dockerfile").read_text().startswith("# One image")


def test_app_services_wait_for_healthy_databases():
    migrate = compose()["services"]["migrate"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate["depends_on"]["redis"]["condition"] == "service_healthy"
    for name in ("web", "worker", "beat"):
        depends = compose()["services"][name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_secrets_are_required_not_defaulted():
    env = compose()["services"]["web"]["environment"]
    assert env["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?")
    assert ":?" in env["DATABASE_URL"]


def test_the_dispatch_queue_has_a_worker_of_its_own_and_every_queue_a_consumer():
    services = compose()["services"]

    def queues(name: str) -> set[str]:
        (flag,) = [arg for arg in services[name]["command"] if arg.startswith("--queues=")]
        return set(flag.removeprefix("--queues=").split(","))

    assert queues("dispatcher") == {"dispatch"}
    assert {"default", "notifications", "dispatch"} <= queues("worker")
    procfile = (ROOT / "Procfile").read_text()
    assert "--queues=dispatch,default,notifications" in procfile
