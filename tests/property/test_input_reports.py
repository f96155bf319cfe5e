"""``InputReports``: reports added one by one and verified runs made when read are, read back, the
list of every report in the order added; counts and the reports not verified agree with that list."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from sitegen.pith.report import InputReport, InputReports, Verdict, VerifiedReports

_NAMES = st.text("abc/", min_size=1, max_size=6)
_REPORT = st.builds(
    InputReport,
    input=_NAMES,
    kind=st.sampled_from(["state", "integrity"]),
    verdict=st.sampled_from(list(Verdict)),
    pith_number=st.none() | st.just("pith:X"),
)
_RUN = st.lists(
    st.tuples(_NAMES, st.none() | st.just("pith:Y"), st.none() | st.just("2607.01083")), max_size=5
)
_STEP = st.one_of(
    st.tuples(st.just("append"), _REPORT),
    st.tuples(st.just("extend"), st.lists(_REPORT, max_size=4)),
    st.tuples(st.just("verified"), _RUN),
)


@given(st.lists(_REPORT, max_size=3), st.lists(_STEP, max_size=12))
def test_input_reports_read_back_as_the_list_of_every_report_added(
    first: list[InputReport], steps: list[tuple[str, object]]
) -> None:
    reports, expected = InputReports(first), list(first)
    for step, value in steps:
        if step == "append":
            assert isinstance(value, InputReport)
            reports.append(value)
            expected.append(value)
        elif step == "extend":
            assert isinstance(value, list)
            reports.extend(value)
            expected.extend(value)
        else:
            assert isinstance(value, list)
            run = VerifiedReports(*(tuple(column) for column in zip(*value, strict=True))) if value else None
            if run is None:
                continue
            reports.add_verified(run)
            expected.extend(
                InputReport(
                    input=name, kind="state", verdict=Verdict.VERIFIED, pith_number=pith, source_id=source
                )
                for name, pith, source in value
            )
    assert list(reports) == expected
    assert list(reports) == expected  # a verified run is read again, the same
    assert len(reports) == len(expected)
    tally = Counter(report.verdict.value for report in expected)
    assert reports.counts() == {verdict.value: tally[verdict.value] for verdict in Verdict}
    assert reports.not_verified() == [r for r in expected if r.verdict is not Verdict.VERIFIED]
