from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from adserver.api import views

router = DefaultRouter()
router.include_root_view = False
# Spend first: its POSTs are most of the traffic, and URLs are matched in order.
router.register("spend", views.SpendViewSet, basename="spend")
router.register("brands", views.BrandViewSet)
router.register("budgets", views.BudgetViewSet)
router.register("campaigns", views.CampaignViewSet)
router.register("dayparts", views.DaypartViewSet)

urlpatterns = [
    path("", include(router.urls)),
    path("status/", views.StatusView.as_view(), name="api-status"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", views.DocsView.as_view(url_name="api-schema"), name="api-docs"),
    # Anything else under /api/ is a JSON 404, not the site's HTML page.
    re_path(r"^.*$", views.not_found, name="api-not-found"),
]
