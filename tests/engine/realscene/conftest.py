from tests.fixtures.nuscenes_fixture import nuscenes_dataset  # noqa: F401 (fixture)
