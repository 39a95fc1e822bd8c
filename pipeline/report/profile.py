"""Report profiles: the parts of the report that only fit one domain, switched on by name.

A profile is a small YAML file (see ``profiles/mentor-calls.yaml``) naming which
domain parts to show: takeaways from advice, educational backgrounds, number families and
the lists codebook. Without a profile the report keeps only what fits any corpus.

``report.profile`` picks it: ``none``; a bundled profile's name; a path to a YAML file; or
``auto`` (the default), which takes the profile the guide names and keeps it only when the
corpus uses the profile's words (``applies_when``), so a corpus about something else is not
shown freelancing rates because no guide was given. The decision and its figures are kept
in the report's method section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from .numbers import KINDS

PROFILES_DIR = Path(__file__).parent / "profiles"
PARTS = ("advice", "backgrounds", "numbers", "lists")


class ProfileError(ValueError):
    pass


@dataclass(frozen=True)
class Profile:
    name: str
    description: str = ""
    advice: bool = False
    backgrounds: bool = False
    numbers: tuple[str, ...] = ()
    lists: Path | None = None
    words: tuple[str, ...] = ()
    min_words: int = 1
    min_share: float = 0.0
    source: str = ""


NO_PROFILE = Profile(name="none", description="Only the parts that fit any corpus.")


@dataclass
class ProfileChoice:
    """The profile in use, and why: what the method section says."""

    profile: Profile
    reason: str
    usage: dict = field(default_factory=dict)  # conversations using its words, when checked

    @property
    def on(self) -> bool:
        return self.profile is not NO_PROFILE


def _path(spec: str) -> Path:
    candidate = Path(spec)
    if candidate.suffix in (".yaml", ".yml"):
        return candidate
    bundled = PROFILES_DIR / f"{spec}.yaml"
    if bundled.is_file():
        return bundled
    names = sorted(p.stem for p in PROFILES_DIR.glob("*.yaml") if not p.stem.endswith("-lists"))
    raise ProfileError(
        f"report.profile: unknown profile {spec!r} (bundled: {', '.join(names)}; or give a "
        "path to a .yaml file, 'auto' or 'none')"
    )


def load_profile(spec: str | Path) -> Profile:
    """Read and check a profile.

    Args:
        spec: a bundled profile's name (``mentor-calls``) or a path to a profile YAML.

    Returns:
        The profile; its ``lists`` path is resolved beside the profile file.

    Raises:
        ProfileError: the profile is unknown, missing, or malformed (naming the file and field).
    """
    path = _path(str(spec))
    if not path.is_file():
        raise ProfileError(f"report.profile: file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: expected a mapping with name and parts")
    unknown = set(data) - {"name", "description", "applies_when", "parts"}
    if unknown:
        raise ProfileError(f"{path}: unknown field(s) {', '.join(sorted(unknown))}")
    parts = data.get("parts") or {}
    if not isinstance(parts, dict) or set(parts) - set(PARTS):
        raise ProfileError(f"{path}: parts: expected a mapping of {', '.join(PARTS)}")
    numbers = tuple(parts.get("numbers") or ())
    bad = [n for n in numbers if n not in KINDS]
    if bad:
        raise ProfileError(
            f"{path}: parts.numbers: unknown kind(s) {', '.join(map(str, bad))} "
            f"(known: {', '.join(KINDS)})"
        )
    lists = parts.get("lists")
    lists_path = None
    if lists:
        lists_path = Path(lists) if Path(lists).is_absolute() else path.parent / str(lists)
        if not lists_path.is_file():
            raise ProfileError(f"{path}: parts.lists: file not found: {lists_path}")
    applies = data.get("applies_when") or {}
    if not isinstance(applies, dict) or set(applies) - {"words", "min_words", "min_share"}:
        raise ProfileError(f"{path}: applies_when: expected words, min_words, min_share")
    return Profile(
        name=str(data.get("name") or path.stem),
        description=str(data.get("description") or ""),
        advice=bool(parts.get("advice", False)),
        backgrounds=bool(parts.get("backgrounds", False)),
        numbers=numbers,
        lists=lists_path,
        words=tuple(str(w).lower() for w in applies.get("words") or ()),
        min_words=int(applies.get("min_words", 1)),
        min_share=float(applies.get("min_share", 0.0)),
        source=str(path),
    )


def _word_patterns(words: tuple[str, ...]) -> list[re.Pattern]:
    out = []
    for word in words:
        if word.endswith("*"):
            out.append(re.compile(r"\b" + re.escape(word[:-1]) + r"\w*", re.IGNORECASE))
        else:
            out.append(re.compile(r"\b" + re.escape(word) + r"\b", re.IGNORECASE))
    return out


def usage(profile: Profile, sentences: pd.DataFrame) -> dict:
    """How many conversations use the profile's words (at least ``min_words`` distinct ones).

    Args:
        profile: the profile, with its ``applies_when`` words.
        sentences: interviewee sentences (``interview_id``, ``text``).

    Returns:
        ``{"conversations": n using it, "of": n in all, "share": n/total}``.
    """
    patterns = _word_patterns(profile.words)
    total = int(sentences["interview_id"].nunique()) if len(sentences) else 0
    using = 0
    for _, group in sentences.groupby("interview_id", sort=True):
        text = " ".join(group["text"].astype(str))
        if sum(1 for p in patterns if p.search(text)) >= profile.min_words:
            using += 1
    return {"conversations": using, "of": total, "share": round(using / total, 3) if total else 0.0}


def choose_profile(
    setting: str, guide_profile: str | None, sentences: pd.DataFrame
) -> ProfileChoice:
    """The profile the report uses, from ``report.profile`` and the guide.

    Args:
        setting: ``report.profile``: ``auto``, ``none``, a bundled name or a YAML path.
        guide_profile: the profile the guide names (``None`` when it names none).
        sentences: interviewee sentences, to check an ``auto`` profile applies.

    Returns:
        The profile (or :data:`NO_PROFILE`) and the reason, as the method section words it.

    Raises:
        ProfileError: the profile named cannot be read.
    """
    if setting == "none":
        return ProfileChoice(NO_PROFILE, "report.profile is none")
    if setting != "auto":
        profile = load_profile(setting)
        return ProfileChoice(profile, f"report.profile is {setting}")
    if not guide_profile:
        return ProfileChoice(NO_PROFILE, "the guide names no profile")
    profile = load_profile(guide_profile)
    used = usage(profile, sentences)
    figures = (
        f"{used['conversations']} of {used['of']} conversations use its words "
        f"(at least {profile.min_words} of {', '.join(profile.words[:6])}, ...); "
        f"it needs {profile.min_share:.0%}"
    )
    if used["of"] and used["share"] >= profile.min_share:
        return ProfileChoice(profile, f"the guide names it and {figures}", used)
    return ProfileChoice(
        NO_PROFILE,
        f"the guide names {profile.name}, left off: {figures}; set report.profile: "
        f"{profile.name} to show it anyway",
        used,
    )


def profile_parts(profile: Profile) -> list[str]:
    """The domain parts a profile shows, as the report lists them."""
    parts = [p for p in ("advice", "backgrounds") if getattr(profile, p)]
    if profile.numbers:
        parts.append("numbers: " + ", ".join(profile.numbers))
    if profile.lists:
        parts.append(f"lists: {profile.lists.name}")
    return parts
