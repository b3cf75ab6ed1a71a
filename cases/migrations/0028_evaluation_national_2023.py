"""The national 2023 evaluation scheme (危重孕产妇救治体系技术评估指标（2023年版）, 国卫办妇幼函〔2023〕481号): the
7 of its 28 indicators that were read from the source (research/indicators.md §1), each marked national with
the address it was read at. The document gives no points here and some rules were not captured: those are
left empty or ``not_captured``, never guessed. A province copies this edition as its 细则 and completes it."""

from decimal import Decimal

from django.db import migrations

SOURCE = "https://www.360docs.net/doc/4a18030398.html"
NOTICE = "http://rbyedu.com/zcjd/2024-1/10/240085.html"

# number, name, parent number (None for an area), order
SECTIONS = [
    ("?", "来源未显示所属分区", None, 0),
    ("一", "工作成效", None, 1),
    ("二", "危重孕产妇救治体系构建运行", None, 2),
    ("（二）", "体系构建", "二", 3),
    ("三", "危重孕产妇救治中心建设管理", None, 4),
    ("（五）", "能力水平", "三", 5),
]

COMMON = {"origin": "national", "source_url": SOURCE}
INDICATORS = [
    dict(section="?", number="?", order=3, name="建立本行政区域内助产人员库",
         definition="本行政区域是否建立助产人员库。",
         value_source="entered", target_type="yes_no", target_text="已建立",
         evidence="各级卫生健康行政部门助产人员库截图；上级已建立全域人员库的，下级仅提供本区域汇总截图。",
         data_source="各级卫生健康行政部门助产人员库截图",
         basis="国卫办妇幼发〔2021〕20号（建立母婴保健技术服务人员库）"),
    dict(section="（二）", number="4", order=4, name="危重孕产妇救治中心覆盖率",
         definition="1 −（未设置危重孕产妇救治中心的行政区划数 ÷ 行政区划总数）× 100%。",
         value_source="entered", target_type="band", target_text="100%；95%～100%按比例得分，95%以下不得分",
         band_lower=Decimal("95"), band_upper=Decimal("100"), band_scoring="proportional",
         evidence="地方各级卫生健康行政部门批复文件", data_source="地方各级卫生健康行政部门批复文件"),
    dict(section="（二）", number="5", order=5, name="危重孕产妇救治中心保障水平",
         definition="年度内本级卫生健康行政部门对本级救治中心的平均补助经费。",
         value_source="entered", target_type="not_captured", target_text="",
         evidence="补助经费文件", data_source=""),
    dict(section="三", number="15", order=15, name="责任片区业务指导频次",
         definition="救治中心通过省级“云上妇幼”远程医疗平台对责任片区内助产机构开展远程业务指导的次数。"
                    "仅适用于省级、市级救治中心。",
         value_source="entered", target_type="trend", trend="up", target_text="逐步提高",
         for_county=False, subject="centre",
         evidence="省级“云上妇幼”远程医疗平台数据", data_source="省级“云上妇幼”远程医疗平台数据"),
    dict(section="三", number="16", order=16, name="外院转入孕产妇比例",
         definition="", value_source="entered", target_type="not_captured", target_text="",
         subject="centre"),
    dict(section="（五）", number="17", order=17, name="产科医师床位比",
         definition="年度内救治中心产科医师数 ÷ 产科实有床位数。",
         value_source="entered", target_type="threshold", comparison="ge", threshold=Decimal("0.3333"),
         target_text="≥1:3（达到合理水平）", subject="centre",
         evidence="执业报告卡与医疗卫生机构年报表",
         data_source="分子：全国妇幼健康统计调查制度《4.3.11母婴保健技术服务执业报告卡》；分母：全国卫生资源与医疗"
                     "服务统计调查制度《1.3.1医疗卫生机构年报表》“十、分科情况”051产科实有床位"),
    dict(section="（五）", number="18", order=18, name="年分娩量",
         definition="年度内救治中心的分娩量。",
         value_source="computed", computed_from="deliveries", target_type="trend", trend="up_or_keep",
         target_text="逐步提高或保持较高水平", subject="centre", data_source="安母分娩记录（按分娩机构）"),
]


def seed(apps, schema_editor):
    Scheme = apps.get_model("cases", "EvaluationScheme")
    Section = apps.get_model("cases", "EvaluationSection")
    Indicator = apps.get_model("cases", "EvaluationIndicator")
    scheme, _ = Scheme.objects.update_or_create(code="national-2023", defaults={
        "name": "危重孕产妇救治体系技术评估指标（2023年版）", "edition": 2023, "province": None,
        "basis": "国家卫生健康委办公厅关于印发危重孕产妇救治体系技术评估方案的通知（国卫办妇幼函〔2023〕481号）",
        "source_url": NOTICE, "indicator_count": 28, "is_active": True})
    sections = {}
    for number, name, parent, order in SECTIONS:
        sections[number], _ = Section.objects.update_or_create(scheme=scheme, number=number, defaults={
            "name": name, "parent": sections.get(parent) if parent else None, "order": order})
    for row in INDICATORS:
        row = {**COMMON, **row}
        section = sections[row.pop("section")]
        Indicator.objects.update_or_create(scheme=scheme, number=row.pop("number"), name=row.pop("name"),
                                           defaults={**row, "section": section})


def unseed(apps, schema_editor):
    Scheme = apps.get_model("cases", "EvaluationScheme")
    for scheme in Scheme.objects.filter(code="national-2023"):
        scheme.indicators.all().delete()
        scheme.sections.filter(parent__isnull=False).delete()
        scheme.sections.all().delete()
        scheme.delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0027_evaluation_schemes")]
    operations = [migrations.RunPython(seed, unseed)]
