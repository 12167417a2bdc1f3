import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from geo.places.credit_code import ALPHABET, check_character, credit_code_error, make_codes


def test_published_codes_are_valid():
    # Codes printed on real business licences.
    for code in ("91350100M000100Y43", "91110000600037341L"):
        assert credit_code_error(code) is None


def test_wrong_check_character_is_explained():
    error = credit_code_error("91350100M000100Y44")
    assert error == "credit code check character is '4', expected '3'"


def test_wrong_length_and_letters_are_rejected():
    assert "18 characters" in credit_code_error("9135010")
    assert "outside GB 32100" in credit_code_error("91350100M000100YO3")  # letter O is not allowed
    assert credit_code_error(None) is not None


@given(st.text(alphabet=ALPHABET, min_size=17, max_size=17))
def test_any_single_character_change_breaks_the_check(first17):
    code = first17 + check_character(first17)
    assert credit_code_error(code) is None
    pos = len(first17) // 2
    other = ALPHABET[(ALPHABET.index(code[pos]) + 1) % len(ALPHABET)]
    assert credit_code_error(code[:pos] + other + code[pos + 1 :]) is not None


def test_generated_codes_are_valid_and_distinct():
    codes = make_codes(np.arange(20_000) * 104_729)
    assert len(set(codes)) == len(codes)
    assert all(credit_code_error(c) is None for c in codes)
    assert all(c.startswith("91120116") for c in codes)
