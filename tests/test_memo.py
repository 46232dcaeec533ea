"""One memo for what is derived once per catalog, persona or session."""

from __future__ import annotations

import gc
import threading

from conftest import small_catalog

from simrec.memo import PerObject, per_object


def test_a_value_is_built_once_per_object_and_kept_apart_from_other_objects():
    built = []

    @per_object
    def ids(catalog):
        """Every item id as str."""
        built.append(catalog)
        return [str(i) for i in catalog.item_ids]

    one, two = small_catalog(5), small_catalog(7)
    assert ids(one) is ids(one)
    assert len(ids(two)) == 7 and len(ids(one)) == 5
    assert built == [one, two]
    assert ids.__doc__ == "Every item id as str."


def test_the_value_goes_with_its_object():
    memo = PerObject(lambda catalog: [0] * len(catalog))
    catalog = small_catalog(4)
    memo(catalog)
    assert len(memo._values) == 1
    del catalog
    gc.collect()
    assert len(memo._values) == 0


def test_threads_that_miss_at_once_all_get_the_value_stored_first():
    gate = threading.Barrier(4)
    memo = PerObject(lambda catalog: (gate.wait(), object())[1])
    catalog = small_catalog(3)
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(memo(catalog))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(v) for v in seen}) == 1 and seen[0] is memo(catalog)
