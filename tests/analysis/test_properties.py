"""Properties over random responses: order does not matter, values stay in range."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.scoring import counts_of, summarize
from tests.analysis.schemes import PAPI, PAPI_ITEMS, SIPAS_DICHVU, SIPAS_ITEMS

# Valid codes 1-5, an unknown code 7 and blanks (absent keys or "").
sipas_code = st.one_of(st.integers(1, 5), st.just(7), st.just(""))
sipas_response = st.fixed_dictionaries(
    {}, optional={**dict.fromkeys(SIPAS_ITEMS, sipas_code),
                  "y_kien": st.text(max_size=5), "gioi_tinh": st.integers(1, 2)})
# Valid codes (1-3, and 9 "không biết", null-scored) and an unknown one.
papi_response = st.fixed_dictionaries(
    {}, optional=dict.fromkeys(PAPI_ITEMS, st.sampled_from([1, 2, 3, 9, 8])))


@settings(max_examples=60, deadline=None)
@given(responses=st.lists(sipas_response, max_size=25), data=st.data())
def test_sipas_summary_ignores_order_and_stays_in_range(responses: list, data: st.DataObject,
                                                        ) -> None:
    shuffled = data.draw(st.permutations(responses))
    summary = summarize(SIPAS_DICHVU, counts_of(SIPAS_DICHVU, responses))
    assert json.dumps(summary) == json.dumps(
        summarize(SIPAS_DICHVU, counts_of(SIPAS_DICHVU, shuffled)))
    assert summary["n_responses"] == len(responses)
    for group in summary["groups"]:
        assert group["value"] is None or 0.0 <= group["value"] <= 100.0
        for item in group["items"]:
            if item["n"] == 0:
                assert item["rate"] is None
                assert item["rate_ci95"] is None
                continue
            low, high = item["rate_ci95"]
            assert 0.0 <= low <= item["rate"] <= high <= 100.0
            assert 1.0 <= item["mean"] <= 5.0
    index = summary["index"]
    if index["ci95"] is not None:
        assert 0.0 <= index["ci95"][0] <= index["value"] <= index["ci95"][1] <= 100.0


@settings(max_examples=60, deadline=None)
@given(responses=st.lists(papi_response, max_size=25), data=st.data())
def test_papi_summary_ignores_order_and_stays_in_range(responses: list, data: st.DataObject,
                                                       ) -> None:
    shuffled = data.draw(st.permutations(responses))
    summary = summarize(PAPI, counts_of(PAPI, responses))
    assert json.dumps(summary) == json.dumps(summarize(PAPI, counts_of(PAPI, shuffled)))
    for group in summary["groups"]:
        if group["value"] is not None:
            assert 1.0 - 1e-9 <= group["value"] <= 10.0 + 1e-9
        for sub in group["subgroups"]:
            for item in sub["items"]:
                assert item["mean"] is None or 0.0 <= item["mean"] <= 1.0
    index = summary["index"]
    if index["ci95"] is not None:
        # The clipped ends are exact; the value is a sum of floats, hence the tolerance.
        low, high = index["ci95"]
        assert 2.0 <= low <= index["value"] + 1e-9
        assert index["value"] - 1e-9 <= high <= 20.0
