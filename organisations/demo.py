"""Demo data: one real province (福建省) with real GB/T 2260 codes, its institutions, rescue centres and
one user per role per county. Idempotent: running it again changes nothing that is already there.

Every demo user has the password ``DEMO_PASSWORD`` (documented in the README).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import models, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from organisations.models import DutyShift, Institution, Membership, Region, RescueCentre, Role, User
from organisations.uscc import demo_uscc

DEMO_PASSWORD = "anmu-demo-2026"  # noqa: S105  (documented demo password, demo data only)
REASON = "演示数据"

K = Institution.Kind

PROVINCE = ("350000", "福建省")
CITIES = [("350100", "福州市"), ("350200", "厦门市")]
# code, name, city code, slug used in demo user names
COUNTIES = [
    ("350102", "鼓楼区", "350100", "gulou"),
    ("350121", "闽侯县", "350100", "minhou"),
    ("350203", "思明区", "350200", "siming"),
    ("350212", "同安区", "350200", "tongan"),
]

# name, kind, level, region code, phone
INSTITUTIONS = [
    ("福建省卫生健康委员会", K.HEALTH_BUREAU, None, "350000", "0591-87823611"),
    ("福建省妇幼保健院", K.MCH_INSTITUTE, 3, "350000", "0591-87558888"),
    ("福州市卫生健康委员会", K.HEALTH_BUREAU, None, "350100", "0591-83361012"),
    ("福州市妇幼保健院", K.MCH_INSTITUTE, 3, "350100", "0591-83375655"),
    ("厦门市卫生健康委员会", K.HEALTH_BUREAU, None, "350200", "0592-2053535"),
    ("厦门市妇幼保健院", K.MCH_INSTITUTE, 3, "350200", "0592-2662000"),
    # 鼓楼区
    ("福州市鼓楼区卫生健康局", K.HEALTH_BUREAU, None, "350102", "0591-87113002"),
    ("福州市鼓楼区妇幼保健院", K.MCH_INSTITUTE, 2, "350102", "0591-87530011"),
    ("福州市鼓楼区医院", K.MIDWIFERY_HOSPITAL, 2, "350102", "0591-87112233"),
    ("鼓楼区温泉街道社区卫生服务中心", K.PRIMARY_CARE, 1, "350102", "0591-87510101"),
    # 闽侯县
    ("闽侯县卫生健康局", K.HEALTH_BUREAU, None, "350121", "0591-22988001"),
    ("闽侯县妇幼保健院", K.MCH_INSTITUTE, 2, "350121", "0591-22066120"),
    ("闽侯县医院", K.MIDWIFERY_HOSPITAL, 2, "350121", "0591-22060120"),
    ("闽侯县甘蔗街道社区卫生服务中心", K.PRIMARY_CARE, 1, "350121", "0591-22981101"),
    # 思明区
    ("厦门市思明区卫生健康局", K.HEALTH_BUREAU, None, "350203", "0592-2151001"),
    ("厦门市思明区妇幼保健院", K.MCH_INSTITUTE, 2, "350203", "0592-2038811"),
    ("厦门市思明区医院", K.MIDWIFERY_HOSPITAL, 2, "350203", "0592-2155120"),
    ("思明区鹭江街道社区卫生服务中心", K.PRIMARY_CARE, 1, "350203", "0592-2021101"),
    # 同安区
    ("厦门市同安区卫生健康局", K.HEALTH_BUREAU, None, "350212", "0592-7022001"),
    ("厦门市同安区妇幼保健院", K.MCH_INSTITUTE, 2, "350212", "0592-7320011"),
    ("厦门市第三医院", K.MIDWIFERY_HOSPITAL, 3, "350212", "0592-7029120"),
    ("同安区大同街道社区卫生服务中心", K.PRIMARY_CARE, 1, "350212", "0592-7321101"),
]

# Licensed prenatal services (产前筛查 / 产前诊断) of the demo: name → (screening, diagnosis, licence number).
PRENATAL_LICENCES = {
    "福州市妇幼保健院": (True, True, "闽母婴（产诊）2024-0101"),
    "厦门市妇幼保健院": (True, True, "闽母婴（产诊）2024-0201"),
    "闽侯县医院": (True, False, "闽母婴（产筛）2024-0121"),
    "厦门市第三医院": (True, False, "闽母婴（产筛）2024-0212"),
}

# host institution, level, responsibility regions, duty phone, contacts
RESCUE_CENTRES = [
    ("福建省妇幼保健院", RescueCentre.Level.PROVINCE, ["350000"], "0591-87558120",
     "产科值班二线；副主任：产科副主任（总机转）"),
    ("福州市妇幼保健院", RescueCentre.Level.CITY, ["350100"], "0591-83375120", "产科总值班；副主任经总机"),
    ("厦门市妇幼保健院", RescueCentre.Level.CITY, ["350200"], "0592-2662120", "产科总值班；副主任经总机"),
    ("闽侯县医院", RescueCentre.Level.COUNTY, ["350121"], "0591-22060999", "产科值班医生；ICU 值班"),
    ("厦门市第三医院", RescueCentre.Level.COUNTY, ["350212"], "0592-7029999", "产科值班医生；ICU 值班"),
]

# Which institution of a county each role works at, by kind; duty doctors go to the centre serving it.
ROLE_KIND = {
    Role.OBSTETRICIAN: K.MIDWIFERY_HOSPITAL,
    Role.PRIMARY_CARE: K.PRIMARY_CARE,
    Role.MCH_OFFICER: K.MCH_INSTITUTE,
    Role.BUREAU_OFFICER: K.HEALTH_BUREAU,
    Role.EXPERT_REVIEWER: K.MCH_INSTITUTE,
    Role.HEAD: K.MIDWIFERY_HOSPITAL,
    Role.SYSTEM_ADMIN: K.HEALTH_BUREAU,
}
ROLE_SLUG = {
    Role.OBSTETRICIAN: "obstetrician",
    Role.PRIMARY_CARE: "primary",
    Role.MCH_OFFICER: "mch",
    Role.DUTY_DOCTOR: "duty",
    Role.BUREAU_OFFICER: "bureau",
    Role.EXPERT_REVIEWER: "expert",
    Role.HEAD: "head",
    Role.SYSTEM_ADMIN: "admin",
}
COUNTY_DUTY_CENTRE = {
    "350102": "福州市妇幼保健院",
    "350121": "闽侯县医院",
    "350203": "厦门市妇幼保健院",
    "350212": "厦门市第三医院",
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁"
GIVEN = "秀英丽敏静燕芳娟霞婷雪梅琳玲红艳华晶慧颖欣怡佳倩婉蓉菲萍琴岚"


@dataclass
class DemoUser:
    username: str
    name: str
    role: str
    institution: str


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def demo_users() -> list[DemoUser]:
    """Every demo login: one per role per county, plus the city and province officers."""
    rng = random.Random(2026)  # noqa: S311  (demo names, not security)
    users: list[DemoUser] = []
    by_region_kind = {(code, kind): name for name, kind, _lvl, code, _p in INSTITUTIONS}
    for code, _county, _city, slug in COUNTIES:
        for role, kind in ROLE_KIND.items():
            users.append(DemoUser(f"{slug}_{ROLE_SLUG[role]}", person_name(rng), role, by_region_kind[(code, kind)]))
        users.append(DemoUser(f"{slug}_duty", person_name(rng), Role.DUTY_DOCTOR, COUNTY_DUTY_CENTRE[code]))
    for code, slug in (("350100", "fuzhou"), ("350200", "xiamen")):
        users.append(DemoUser(f"{slug}_bureau", person_name(rng), Role.BUREAU_OFFICER, by_region_kind[(code, K.HEALTH_BUREAU)]))
        users.append(DemoUser(f"{slug}_mch", person_name(rng), Role.MCH_OFFICER, by_region_kind[(code, K.MCH_INSTITUTE)]))
    users += [
        DemoUser("fujian_bureau", person_name(rng), Role.BUREAU_OFFICER, "福建省卫生健康委员会"),
        DemoUser("fujian_mch", person_name(rng), Role.MCH_OFFICER, "福建省妇幼保健院"),
        DemoUser("fujian_expert", person_name(rng), Role.EXPERT_REVIEWER, "福建省妇幼保健院"),
        DemoUser("fujian_duty", person_name(rng), Role.DUTY_DOCTOR, "福建省妇幼保健院"),
        DemoUser("fujian_admin", person_name(rng), Role.SYSTEM_ADMIN, "福建省卫生健康委员会"),
    ]
    return users


def _save(obj, *, reason: str = REASON):  # type: ignore[no-untyped-def]
    obj.full_clean()
    obj._change_reason = reason
    obj.save()
    return obj


def _bulk_save(objs: list[Any], model: type[models.Model]) -> int:
    """Validate each row, then write the rows and their history rows in two statements (plain rows with
    no side effects on creation: users, memberships, duty shifts)."""
    for obj in objs:
        obj.full_clean(validate_unique=False)  # the caller only passes rows it found missing
    if objs:
        bulk_create_with_history(objs, model, default_change_reason=REASON)
    return len(objs)


@transaction.atomic
def seed_organisations() -> dict[str, int]:
    created = {"regions": 0, "institutions": 0, "rescue_centres": 0, "users": 0, "memberships": 0}
    regions: dict[str, Region] = {}

    def region(code: str, name: str, level: str, parent: Region | None) -> Region:
        existing = Region.objects.filter(code=code).first()
        if existing is None:
            existing = _save(Region(code=code, name=name, level=level, parent=parent))
            created["regions"] += 1
        regions[code] = existing
        return existing

    province = region(*PROVINCE, Region.Level.PROVINCE, None)
    for code, name in CITIES:
        region(code, name, Region.Level.CITY, province)
    for code, name, city, _slug in COUNTIES:
        region(code, name, Region.Level.COUNTY, regions[city])

    institutions: dict[str, Institution] = {}
    for name, kind, level, code, phone in INSTITUTIONS:
        institution = Institution.objects.filter(name=name, region_id=code).first()
        if institution is None:
            institution = _save(Institution(code=demo_uscc(code, name), name=name, kind=kind, level=level,
                                          region=regions[code], phone=phone))
            created["institutions"] += 1
        elif institution.code.startswith("ANMU-"):  # a demo made before institutions had codes
            institution.code = demo_uscc(code, name)
            _save(institution)
        licence = PRENATAL_LICENCES.get(name)
        if licence is not None and not (institution.prenatal_screening or institution.prenatal_diagnosis
                                        or institution.prenatal_licence_number):
            institution.prenatal_screening, institution.prenatal_diagnosis, institution.prenatal_licence_number = licence
            _save(institution)
        institutions[name] = institution

    for host, centre_level, area, phone, contacts in RESCUE_CENTRES:
        centre = RescueCentre.objects.filter(institution=institutions[host]).first()
        if centre is None:
            centre = _save(RescueCentre(institution=institutions[host], level=centre_level, duty_phone=phone,
                                        contact_note=contacts))
            centre.regions.set([regions[c] for c in area])
            created["rescue_centres"] += 1

    rng = random.Random(7)  # noqa: S311
    demos = demo_users()
    existing = {user.username: user for user in User.objects.filter(username__in=[d.username for d in demos])}
    # The demo password is public: hash it once (PBKDF2 costs about half a second) and share the hash.
    password: str | None = None
    new_users: list[User] = []
    for demo in demos:
        phone = f"13{rng.randint(5, 9)}{rng.randint(0, 99999999):08d}"
        if demo.username in existing:
            continue
        password = password or make_password(DEMO_PASSWORD)
        user = User(username=demo.username, name=demo.name, phone=phone, password=password,
                    is_staff=demo.role == Role.SYSTEM_ADMIN)
        new_users.append(user)
    created["users"] = _bulk_save(new_users, User)
    users = {user.username: user for user in User.objects.filter(username__in=[d.username for d in demos])}
    held = set(Membership.objects.filter(user__in=users.values()).values_list("user_id", "institution_id", "role"))
    new_memberships = []
    for demo in demos:
        user, institution = users[demo.username], institutions[demo.institution]
        if (user.pk, institution.pk, demo.role) not in held:
            held.add((user.pk, institution.pk, demo.role))
            new_memberships.append(Membership(user=user, institution=institution, role=demo.role))
    created["memberships"] = _bulk_save(new_memberships, Membership)
    created["shifts"] = seed_roster()
    return created


ROSTER_DAYS = 7
# host institution → (on-duty username, on-call username or None)
DEMO_ROSTER = {
    "闽侯县医院": ("minhou_duty", "minhou_obstetrician"),
    "厦门市第三医院": ("tongan_duty", "tongan_obstetrician"),
    "福州市妇幼保健院": ("gulou_duty", None),
    "厦门市妇幼保健院": ("siming_duty", None),
    "福建省妇幼保健院": ("fujian_duty", None),
}


def seed_roster(*, now: dt.datetime | None = None) -> int:
    """Keep every demo rescue centre staffed for the next week with 24-hour shifts from 08:00, so that
    alerts to "the duty doctor" reach a demo login. Re-running extends the roster; it never overlaps."""
    now = now or timezone.now()
    shifts: list[DutyShift] = []
    for host, usernames in DEMO_ROSTER.items():
        institution = Institution.objects.filter(name=host).first()
        if institution is None:
            continue
        for kind, username in zip((DutyShift.Kind.DUTY, DutyShift.Kind.ON_CALL), usernames, strict=True):
            user = User.objects.filter(username=username).first() if username else None
            if user is None:
                continue
            last = DutyShift.objects.filter(institution=institution, kind=kind).order_by("-ends_at").first()
            local = timezone.localtime(now)
            start = local.replace(hour=8, minute=0, second=0, microsecond=0)
            if start > local:
                start -= dt.timedelta(days=1)
            if last is not None and last.ends_at > start:
                start = last.ends_at
            while start < now + dt.timedelta(days=ROSTER_DAYS):
                shifts.append(DutyShift(institution=institution, user=user, kind=kind, starts_at=start,
                                        ends_at=start + dt.timedelta(hours=24)))
                start += dt.timedelta(hours=24)
    return _bulk_save(shifts, DutyShift)
