"""The structured course catalogue (YAML): one searchable document per course and language."""

from datetime import date
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ingest.documents import Document, LoadError, Topic, validate_meta


class Bilingual(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)


class CatalogueMeta(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Bilingual
    topic: Topic = "courses"
    audience: Literal["public", "staff"]
    status: Literal["official", "sample"]
    source: Bilingual
    updated: date
    enrolment: Bilingual


class Course(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[A-Z]{2,4}-\d{2,4}$")
    title: Bilingual
    provider: str
    credits: int = Field(ge=1, le=30)
    mode: Literal["online", "blended", "face-to-face"]
    semester: Literal["every", "autumn", "spring"]
    description: Bilingual


class Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    catalogue: CatalogueMeta
    providers: dict[str, Bilingual]
    courses: list[Course] = Field(min_length=1)


MODE_LABELS = {
    "online": {"en": "online", "zh": "线上学习"},
    "blended": {
        "en": "blended (online study plus weekend sessions at a branch)",
        "zh": "混合式（线上学习加分校周末面授）",
    },
    "face-to-face": {"en": "face-to-face at a branch", "zh": "分校面授"},
}
SEMESTER_LABELS = {
    "every": {"en": "every semester", "zh": "每学期"},
    "autumn": {"en": "the autumn semester", "zh": "秋季学期"},
    "spring": {"en": "the spring semester", "zh": "春季学期"},
}


def _course_body(course: Course, provider: Bilingual, enrolment: Bilingual, lang: str) -> str:
    """A course's entry as sentences that each name the course, so that one quoted alone (its
    credits, its semester) still says which course it is about."""
    mode, semester = MODE_LABELS[course.mode][lang], SEMESTER_LABELS[course.semester][lang]
    code = course.code
    if lang == "zh":
        return (
            f"# {code} {course.title.zh}\n\n## 课程信息\n\n"
            f"{code}《{course.title.zh}》（{course.title.en}）是{provider.zh}开设的共享课程。"
            f"{code}的学分为{course.credits}学分。{code}的教学方式为{mode}。"
            f"{code}的开课学期为{semester}。\n\n{course.description.zh}\n\n{enrolment.zh}"
        )
    return (
        f"# {code} {course.title.en}\n\n## Course details\n\n"
        f"{code} {course.title.en} ({course.title.zh}) is a shared course offered by "
        f"{provider.en}. {code} is worth {course.credits} credits. {code} is taught {mode}. "
        f"{code} runs in {semester}.\n\n{course.description.en}\n\n{enrolment.en}"
    )


def load_catalogue(relpath: str, text: str) -> list[Document]:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LoadError(f"not valid YAML: {' '.join(str(exc).split())[:200]}") from None
    if not isinstance(raw, dict) or "courses" not in raw:
        raise LoadError("a YAML file here must be a course catalogue (with 'courses')")
    try:
        catalogue = Catalogue.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()[:5]
        )
        raise LoadError(f"invalid catalogue: {problems}") from None
    codes = [course.code for course in catalogue.courses]
    if len(codes) != len(set(codes)):
        raise LoadError("course codes must be unique")
    meta = catalogue.catalogue
    documents = []
    for course in catalogue.courses:
        provider = catalogue.providers.get(course.provider)
        if provider is None:
            raise LoadError(f"course {course.code}: unknown provider {course.provider!r}")
        for lang in ("en", "zh"):
            doc_meta = validate_meta(
                {
                    "title": f"{course.code} {getattr(course.title, lang)}",
                    "topic": meta.topic,
                    "audience": meta.audience,
                    "lang": lang,
                    "status": meta.status,
                    "source": getattr(meta.source, lang),
                    "updated": meta.updated,
                },
                f"course {course.code}",
            )
            documents.append(
                Document(
                    doc_id=f"{relpath}#{course.code}@{lang}",
                    path=relpath,
                    meta=doc_meta,
                    body=_course_body(course, provider, meta.enrolment, lang),
                    extra={
                        "course_code": course.code,
                        "provider": course.provider,
                        "provider_name": getattr(provider, lang),
                        "credits": course.credits,
                        "mode": course.mode,
                        "mode_label": MODE_LABELS[course.mode][lang],
                        "semester": course.semester,
                        "semester_label": SEMESTER_LABELS[course.semester][lang],
                        # For questions about one course: its name and what it teaches.
                        "course_title": getattr(course.title, lang),
                        "description": getattr(course.description, lang),
                    },
                )
            )
    return documents
