"""The hearing right (处罚法 第六十三条): the item's own hearing data first, then the sector's
figures (听证办法 第五条), each threshold on its own, and the notice says which applied."""

from geo.cases.rules import hearing_basis, hearing_basis_text, hearing_right


def test_fine_and_confiscation_are_judged_apart_never_added():
    both = {"kinds": ["fine", "confiscation"], "fine_yuan": 60000, "confiscation_yuan": 60000}
    assert hearing_basis(both, "legal") == []  # 120,000 together, but neither reaches 100,000
    assert hearing_basis({**both, "confiscation_yuan": 100000}, "legal") == ["confiscation"]
    assert hearing_basis({"kinds": ["fine"], "fine_yuan": 10000}, "natural") == ["fine"]


def test_the_items_hearing_data_comes_first():
    confiscation = {"kinds": ["confiscation"], "confiscation_yuan": 800}
    assert not hearing_right(confiscation, "natural")
    assert hearing_basis(confiscation, "natural", {"kinds": ["confiscation"]}) == ["item_kind:confiscation"]
    lower = {"natural_min_yuan": 5000, "org_min_yuan": 50000, "kinds": []}
    assert hearing_basis({"kinds": ["fine"], "fine_yuan": 60000}, "legal", lower) == ["fine"]
    assert hearing_basis({"kinds": ["revoke_licence"]}, "legal") == ["kind:revoke_licence"]


def test_the_basis_reads_in_words():
    words = hearing_basis_text(["item_kind:confiscation", "fine"], "legal")
    assert "本事项听证规定" in words and "罚款达到较大数额" in words
