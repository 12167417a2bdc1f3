"""A command centre's wall: the production server (gunicorn's gevent worker, as the
Dockerfile runs it) holds well over 64 open dashboards and still answers the API and pages
as before. (With one thread per socket, 64 dashboards stopped the whole web tier.)"""

import pytest

from lawgrid import screens
from tests.conftest import PASSWORD


@pytest.fixture(scope="module")
def production(runtime, tmp_path_factory):
    proc, url = screens.start_server(runtime.url, tmp_path_factory.mktemp("web"), "many-screens-secret")
    yield url
    proc.terminate()
    proc.wait(20)


def test_150_open_dashboards_leave_the_api_and_pages_answering(production, users):
    access = screens.token(production, users["operator"], PASSWORD)
    quiet = screens.timings(production, access, n=20)
    dashboards, failed = screens.open_dashboards(production, access, 150)
    try:
        busy = screens.timings(production, access, n=20)
        late, _ = screens.open_dashboards(production, access, 1)  # and one more still gets in
        assert failed == 0 and len(dashboards) == 150 and len(late) == 1
        for kind in ("rest", "page"):
            assert quiet[kind]["errors"] == 0 and busy[kind]["errors"] == 0, (quiet, busy)
            assert busy[kind]["max_ms"] < 2000, busy  # not the 10 s timeouts of a thread per socket
    finally:
        for client in dashboards + late:
            client.disconnect()
