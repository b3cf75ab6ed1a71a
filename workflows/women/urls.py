"""URLs of the women's application (/cases/…): the register, the woman and pregnancy pages, and the steps
screening and the high-risk process take on a pregnancy (their views live in their packages)."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy

from organisations.shell import AnmuApplication
from workflows.highrisk.views import case_report
from workflows.routine.views import delivery, visit_correct, visit_new, visit_void
from workflows.screening.views import (
    assess,
    assessment_void,
    assessment_worklist,
    continuation_record,
    screen,
)
from workflows.women.views import (
    pregnancy_book,
    pregnancy_detail,
    woman_detail,
    woman_list,
    woman_merge,
    woman_register,
)


class WomenApp(AnmuApplication):
    title = gettext_lazy("Women")
    icon = "pregnant_woman"
    app_name = "cases"
    menu_template_name = "women/app_menu.html"
    permission = "cases.view_woman"
    denied_reason = gettext_lazy("Your role does not include reading women's records.")

    index_path = path("", woman_list, name="index")
    register_path = path("women/new/", woman_register, name="woman_register")
    woman_detail_path = path("women/<uuid:pk>/", woman_detail, name="woman_detail")
    book_path = path("women/<uuid:pk>/book/", pregnancy_book, name="pregnancy_book")
    merge_path = path("women/<uuid:pk>/merge/", woman_merge, name="woman_merge")
    pregnancy_path = path("pregnancies/<uuid:pk>/", pregnancy_detail, name="pregnancy_detail")
    screen_path = path("pregnancies/<uuid:pk>/screen/", screen, name="screen")
    assess_path = path("pregnancies/<uuid:pk>/assess/", assess, name="assess")
    void_path = path("pregnancies/<uuid:pk>/assessments/<uuid:assessment_pk>/void/", assessment_void,
                     name="assessment_void")
    continuation_path = path("pregnancies/<uuid:pk>/evaluations/<uuid:evaluation_pk>/", continuation_record,
                             name="continuation_record")
    case_report_path = path("cases/<uuid:pk>/report/", case_report, name="case_report")
    worklist_path = path("awaiting-assessment/", assessment_worklist, name="worklist")
    visit_new_path = path("pregnancies/<uuid:pk>/visits/new/", visit_new, name="visit_new")
    visit_correct_path = path("pregnancies/<uuid:pk>/visits/<uuid:visit_pk>/", visit_correct, name="visit_correct")
    visit_void_path = path("pregnancies/<uuid:pk>/visits/<uuid:visit_pk>/void/", visit_void, name="visit_void")
    delivery_path = path("pregnancies/<uuid:pk>/delivery/", delivery, name="delivery")
