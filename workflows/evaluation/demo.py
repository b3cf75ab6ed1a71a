"""A demo evaluation round for a first look: the province's county round of last year, opened by 福建省卫健委, with
one subject at each stage a bureau or a centre would meet it:

* 鼓楼区's system has self-evaluated with its finalised 自评报告 and waits for 福州市 to evaluate it;
* 闽侯县医院 (a county rescue centre) was visited unannounced and passed by 闽侯县;
* 闽侯县's system and the other subjects are still self-evaluating.

Everything goes through the services (flows, history, deadlines, alerts). Idempotent; called from
``seed_demo --first-look`` after the interviews."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from cases.models import EvaluationIndicator, EvaluationRound, EvaluationSubmission, SelfInspectionReport
from organisations.models import Region, User
from workflows.evaluation import services as svc
from workflows.selfinspection import services as selfinspection

# What an officer would write for an entered value: by target type, (value, evidence).
ENTERED: dict[str, tuple[str, str]] = {
    EvaluationIndicator.TargetType.YES_NO: ("1", "区卫健局文件：助产人员库名单（2025年12月更新）"),
    EvaluationIndicator.TargetType.BAND: ("100", "辖区救治中心设置文件及名单"),
    EvaluationIndicator.TargetType.THRESHOLD: ("0.4", "产科医师执业注册名单与核定床位数"),
}


def _enter_all(submission: EvaluationSubmission, by: Any) -> None:
    for score in submission.scores.select_related("indicator"):
        entered = ENTERED.get(score.indicator.target_type)
        if score.indicator.value_source == EvaluationIndicator.ValueSource.ENTERED and entered is not None:
            svc.score_enter(score=score, by=by, value=entered[0], evidence=entered[1])


def _self_evaluation_report(region: Region, year: int, by: Any) -> None:
    report = SelfInspectionReport.objects.filter(region=region, year=year,
                                                 kind=SelfInspectionReport.Kind.SELF_EVALUATION).first()
    if report is None:
        report = selfinspection.selfinspection_create(by=by, region=region, year=year,
                                                      kind=SelfInspectionReport.Kind.SELF_EVALUATION)
    if report.state == SelfInspectionReport.State.DRAFT:
        report = selfinspection.selfinspection_update(
            report=report, by=by,
            measures="落实危重孕产妇救治中心建设，区级救治中心24小时值班，每季度开展产科急救演练。",
            problems="基层助产机构高危孕产妇转诊时限掌握不一，个别病例转诊应答超时。",
            next_steps="加强转诊培训与督导，按季度通报转诊应答时间。")
        selfinspection.selfinspection_finalise(report=report, by=by)


def seed_evaluation() -> int:
    """Does nothing when a round exists or the demo organisations are missing; returns how many rounds were
    opened (0 or 1)."""
    if EvaluationRound.objects.exists():
        return 0
    users = {u.username: u for u in User.objects.filter(username__in=(
        "fujian_bureau", "gulou_mch", "minhou_head", "minhou_mch"))}
    province = Region.objects.filter(code="350000").first()
    if province is None or len(users) < 4:
        return 0
    year = timezone.localdate().year - 1
    round_ = svc.round_open(by=users["fujian_bureau"], province=province, year=year, level=Region.Level.COUNTY)

    gulou = round_.submissions.filter(subject=EvaluationIndicator.Subject.SYSTEM, region_id="350102").first()
    if gulou is not None:
        _enter_all(gulou, users["gulou_mch"])
        _self_evaluation_report(gulou.region, year, users["gulou_mch"])
        svc.submission_submit(submission=gulou, by=users["gulou_mch"],
                              summary="全区危重孕产妇救治体系运行平稳，救治中心覆盖全部助产机构；转诊应答时间仍需缩短。")

    centre = round_.submissions.filter(subject=EvaluationIndicator.Subject.CENTRE,
                                       centre__institution__name="闽侯县医院").first()
    if centre is not None:
        _enter_all(centre, users["minhou_head"])
        svc.submission_submit(submission=centre, by=users["minhou_head"],
                              summary="全年收治危重孕产妇，绿色通道畅通，多学科救治团队24小时待命。")
        svc.visit_record(submission=centre, by=users["minhou_mch"],
                         visited_on=timezone.localdate() - dt.timedelta(days=3), unannounced=True,
                         evaluators="县妇幼保健院 林主任、县卫健局 陈科长",
                         findings="夜间抽查：产科值班医师、麻醉医师到岗；抢救药品齐全，血源储备符合要求。")
        svc.submission_decide(submission=centre, by=users["minhou_mch"], passed=True, reason="")
    return 1
