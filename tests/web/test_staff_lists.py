"""The staff home's capture lists: a page at a time, with how many in all."""

from __future__ import annotations

import re

from tests.pipeline.projections.test_captures import fail, receive


def section(html: str, name: str) -> str:
    return html.split(f'<section id="{name}">')[1].split("</section>")[0]


def names(html: str) -> list[str]:
    return re.findall(r'<a href="/staff/captures/[^"]+">([^<]+)</a>', html)


def test_each_list_pages_with_its_total(svc, archivist):
    ids = [receive(svc, f"scan-{i:02}.png") for i in range(55)]
    fail(svc, ids[0])
    home = archivist.get("/staff").text
    recent = section(home, "recent")
    assert "(55)" in recent and len(names(recent)) == 50
    assert names(recent)[0] == "scan-54.png", "newest first"
    assert "/home/lan" not in home, "never the path on the ingesting machine"
    assert "(54)" in section(home, "queue")
    failures = section(home, "failures")
    assert "(1)" in failures and names(failures) == ["scan-00.png"]
    assert "truncated PNG" in failures and 'rel="next"' not in failures
    following = re.search(r'rel="next" href="([^"]+)"', recent).group(1).replace("&amp;", "&")
    second = section(archivist.get(following).text, "recent")
    assert names(second) == [f"scan-{i:02}.png" for i in range(4, -1, -1)]
    assert 'rel="prev"' in second and 'rel="next"' not in second
