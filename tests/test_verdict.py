"""Verdicts: a training outcome printed with its meaning, and advice only when it differs."""
from gan_helpers.verdict import verdict


def test_a_verdict_that_holds_prints_the_numbers_and_the_meaning(monkeypatch, capsys):
    monkeypatch.delenv("GAN_FAST", raising=False)
    assert verdict("FID fell", True, numbers="900 -> 100", meaning="the samples improved", advice="train longer")
    out = capsys.readouterr().out
    assert out.startswith("✔ As in the course's runs: FID fell (900 -> 100).")
    assert "the samples improved" in out and "train longer" not in out and "Fast mode" not in out


def test_a_verdict_that_fails_says_what_to_try_and_does_not_raise(monkeypatch, capsys):
    monkeypatch.delenv("GAN_FAST", raising=False)
    assert not verdict("FID fell", 0, numbers="900 -> 950", meaning="the samples improved", advice="train longer")
    out = capsys.readouterr().out
    assert out.startswith("✘ Not in this run: FID fell (900 -> 950).") and "What to try: train longer" in out


def test_in_fast_mode_a_verdict_says_that_it_shows_nothing(monkeypatch, capsys):
    monkeypatch.setenv("GAN_FAST", "1")
    verdict("FID fell", False, numbers="x", meaning="y", advice="z " * 80)
    out = capsys.readouterr().out
    assert "Fast mode" in out and max(len(line) for line in out.splitlines()) <= 100   # wrapped for reading
