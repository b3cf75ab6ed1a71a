"""Standing personas (CONVENTIONS §8), built with factory_boy on a small real region tree.

    福建省 350000
      福州市 350100 ── 闽侯县 350121 (county A) · 鼓楼区 350102 (county A2: same city, other county)
      厦门市 350200 ── 同安区 350212 (county B)
    广东省 440000 ── 广州市 440100 ── 越秀区 440104 (another province)

``county A`` has a county rescue centre (闽侯县医院); county B is served by 厦门市第三医院 (a county
centre of its own); the provincial centre is the provincial MCH hospital.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import factory
from factory.django import DjangoModelFactory

from cases.identity import id_check_char
from cases.models import Pregnancy, Woman
from organisations.models import Institution, Membership, Region, RescueCentre, Role, User

PASSWORD = "persona-password-1"


class RegionFactory(DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"地区{n}")
    level = Region.Level.COUNTY


class InstitutionFactory(DjangoModelFactory):
    class Meta:
        model = Institution

    code = factory.Sequence(lambda n: f"T{n:08d}")
    name = factory.Sequence(lambda n: f"机构{n}")
    kind = Institution.Kind.MIDWIFERY_HOSPITAL
    level = 2


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            obj.save()


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership


def make_id_number(region_code: str, born: dt.date, seq: int) -> str:
    first17 = f"{region_code}{born:%Y%m%d}{seq % 1000:03d}"
    return first17 + id_check_char(first17)


class WomanFactory(DjangoModelFactory):
    class Meta:
        model = Woman

    name = factory.Sequence(lambda n: f"孕妇{n}")
    id_type = Woman.IdType.RESIDENT_ID
    date_of_birth = dt.date(1993, 5, 17)
    # An even sequence number: GB 11643 gives odd 17th digits to men.
    id_number = factory.LazyAttributeSequence(
        lambda o, n: make_id_number(o.residence_region.code, o.date_of_birth, 2 * n))
    phone = factory.Sequence(lambda n: f"139{n:08d}")


class PregnancyFactory(DjangoModelFactory):
    class Meta:
        model = Pregnancy

    lmp = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=100))  # noqa: DTZ011
    booking_date = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=40))  # noqa: DTZ011
    gravidity = 1
    parity = 0


def _member(username: str, institution: Institution, role: str) -> User:
    user = UserFactory(username=username)
    MembershipFactory(user=user, institution=institution, role=role)
    return user


def build_personas() -> SimpleNamespace:
    R = Region.Level
    K = Institution.Kind
    fujian = RegionFactory(code="350000", name="福建省", level=R.PROVINCE)
    fuzhou = RegionFactory(code="350100", name="福州市", level=R.CITY, parent=fujian)
    xiamen = RegionFactory(code="350200", name="厦门市", level=R.CITY, parent=fujian)
    county_a = RegionFactory(code="350121", name="闽侯县", level=R.COUNTY, parent=fuzhou)
    county_a2 = RegionFactory(code="350102", name="鼓楼区", level=R.COUNTY, parent=fuzhou)
    county_b = RegionFactory(code="350212", name="同安区", level=R.COUNTY, parent=xiamen)
    guangdong = RegionFactory(code="440000", name="广东省", level=R.PROVINCE)
    guangzhou = RegionFactory(code="440100", name="广州市", level=R.CITY, parent=guangdong)
    yuexiu = RegionFactory(code="440104", name="越秀区", level=R.COUNTY, parent=guangzhou)

    inst = SimpleNamespace(
        hospital_a=InstitutionFactory(name="闽侯县医院", kind=K.MIDWIFERY_HOSPITAL, level=2, region=county_a),
        primary_a=InstitutionFactory(name="甘蔗社区卫生服务中心", kind=K.PRIMARY_CARE, level=1, region=county_a),
        mch_a=InstitutionFactory(name="闽侯县妇幼保健院", kind=K.MCH_INSTITUTE, level=2, region=county_a),
        bureau_a=InstitutionFactory(name="闽侯县卫生健康局", kind=K.HEALTH_BUREAU, level=None, region=county_a),
        hospital_a2=InstitutionFactory(name="鼓楼区医院", kind=K.MIDWIFERY_HOSPITAL, level=2, region=county_a2),
        hospital_b=InstitutionFactory(name="厦门市第三医院", kind=K.MIDWIFERY_HOSPITAL, level=3, region=county_b),
        mch_b=InstitutionFactory(name="同安区妇幼保健院", kind=K.MCH_INSTITUTE, level=2, region=county_b),
        bureau_city=InstitutionFactory(name="福州市卫生健康委员会", kind=K.HEALTH_BUREAU, level=None, region=fuzhou),
        mch_city=InstitutionFactory(name="福州市妇幼保健院", kind=K.MCH_INSTITUTE, level=3, region=fuzhou),
        mch_province=InstitutionFactory(name="福建省妇幼保健院", kind=K.MCH_INSTITUTE, level=3, region=fujian),
        bureau_province=InstitutionFactory(name="福建省卫生健康委员会", kind=K.HEALTH_BUREAU, level=None, region=fujian),
        hospital_gd=InstitutionFactory(name="广东省妇幼保健院", kind=K.MCH_INSTITUTE, level=3, region=yuexiu),
        bureau_gd=InstitutionFactory(name="广东省卫生健康委员会", kind=K.HEALTH_BUREAU, level=None, region=guangdong),
    )
    centre_a = RescueCentre.objects.create(institution=inst.hospital_a, level=RescueCentre.Level.COUNTY,
                                           duty_phone="0591-22060999")
    centre_a.regions.set([county_a])
    centre_b = RescueCentre.objects.create(institution=inst.hospital_b, level=RescueCentre.Level.COUNTY,
                                           duty_phone="0592-7029999")
    centre_b.regions.set([county_b])
    centre_city = RescueCentre.objects.create(institution=inst.mch_city, level=RescueCentre.Level.CITY,
                                              duty_phone="0591-83375120")
    centre_city.regions.set([fuzhou])
    centre_province = RescueCentre.objects.create(institution=inst.mch_province, level=RescueCentre.Level.PROVINCE,
                                                  duty_phone="0591-87558120")
    centre_province.regions.set([fujian])

    users = SimpleNamespace(
        obstetrician_a=_member("obstetrician_a", inst.hospital_a, Role.OBSTETRICIAN),
        obstetrician_b=_member("obstetrician_b", inst.hospital_b, Role.OBSTETRICIAN),
        primary_a=_member("primary_a", inst.primary_a, Role.PRIMARY_CARE),
        mch_a=_member("mch_a", inst.mch_a, Role.MCH_OFFICER),
        mch_b=_member("mch_b", inst.mch_b, Role.MCH_OFFICER),
        duty_a=_member("duty_a", inst.hospital_a, Role.DUTY_DOCTOR),
        duty_b=_member("duty_b", inst.hospital_b, Role.DUTY_DOCTOR),
        bureau_a=_member("bureau_a", inst.bureau_a, Role.BUREAU_OFFICER),
        bureau_city=_member("bureau_city", inst.bureau_city, Role.BUREAU_OFFICER),
        reviewer_province=_member("reviewer_province", inst.mch_province, Role.EXPERT_REVIEWER),
        bureau_province=_member("bureau_province", inst.bureau_province, Role.BUREAU_OFFICER),
        bureau_gd=_member("bureau_gd", inst.bureau_gd, Role.BUREAU_OFFICER),
        outsider=UserFactory(username="outsider"),
    )
    regions = SimpleNamespace(fujian=fujian, fuzhou=fuzhou, xiamen=xiamen, county_a=county_a, county_a2=county_a2,
                              county_b=county_b, guangdong=guangdong, guangzhou=guangzhou, yuexiu=yuexiu)
    centres = SimpleNamespace(a=centre_a, b=centre_b, city=centre_city, province=centre_province)
    return SimpleNamespace(users=users, inst=inst, regions=regions, centres=centres, password=PASSWORD)


def book_woman(*, at: Institution, region: Region | None = None, **kwargs) -> Woman:  # type: ignore[no-untyped-def]
    """A woman living in ``region`` (default: the institution's), registered and booked at ``at``."""
    woman = WomanFactory(residence_region=region or at.region, registered_by=at, **kwargs)
    PregnancyFactory(woman=woman, booking_institution=at)
    return woman
