from tests.lockers.conftest import bank, make_bank  # noqa: F401 - the same bank fixtures
