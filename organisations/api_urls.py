from django.urls import path
from rest_framework.routers import DefaultRouter

from organisations import api

router = DefaultRouter(use_regex_path=False)
router.register("institutions", api.InstitutionViewSet, basename="institution")
router.register("rescue-centres", api.RescueCentreViewSet, basename="rescuecentre")

urlpatterns = [path("me/", api.me, name="api-me"), *router.urls]
