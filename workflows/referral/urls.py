"""URLs of the referral application (/referrals/…) and of its API (/api/referrals/…)."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy
from rest_framework.routers import SimpleRouter

from organisations.shell import AnmuApplication
from workflows.referral import api
from workflows.referral.views import (
    DENIED,
    area,
    attachment_download,
    board,
    caesarean_list,
    consultation_action,
    consultation_detail,
    consultation_list,
    consultation_new,
    home,
    may_open_the_application,
    near_miss_register,
    referral_action,
    referral_detail,
    referral_new,
    referral_print,
    sent,
)


class ReferralApp(AnmuApplication):
    title = gettext_lazy("Referral and rescue")
    icon = "emergency"
    # The prefix users have bookmarked stays /referrals/; the URL names are the process's: ``referral:…``.
    app_name = "referrals"
    namespace = "referral"
    menu_template_name = "referral/app_menu.html"
    # Referral roles and consultation roles (a named expert answers her consultations here); each page
    # checks its own permission (``requires``).
    permission = staticmethod(may_open_the_application)
    denied_reason = DENIED

    index_path = path("", home, name="index")
    board_path = path("board/", board, name="board")
    sent_path = path("sent/", sent, name="sent")
    area_path = path("area/", area, name="area")
    new_path = path("new/", referral_new, name="new")
    caesareans_path = path("caesareans/", caesarean_list, name="caesareans")
    near_misses_path = path("near-misses/", near_miss_register, name="near_misses")
    consultations_path = path("consultations/", consultation_list, name="consultations")
    consultation_new_path = path("consultations/new/", consultation_new, name="consultation_new")
    consultation_path = path("consultations/<uuid:pk>/", consultation_detail, name="consultation")
    consultation_action_path = path("consultations/<uuid:pk>/<slug:action>/", consultation_action,
                                    name="consultation_action")
    detail_path = path("<uuid:pk>/", referral_detail, name="detail")
    print_path = path("<uuid:pk>/print/", referral_print, name="print")
    attachment_path = path("<uuid:pk>/files/<uuid:file_pk>/", attachment_download, name="attachment")
    action_path = path("<uuid:pk>/<slug:action>/", referral_action, name="action")


# SimpleRouter: organisations.api_urls' DefaultRouter already serves the API root at /api/.
router = SimpleRouter(use_regex_path=False)
router.register("referrals", api.ReferralViewSet, basename="api-referral")
api_urlpatterns = router.urls
