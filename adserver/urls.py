from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from adserver import metrics, views
from adserver.admin import view_on_site

handler500 = "adserver.views.server_error"

# Django tries the patterns in order on every request: the API, where spend
# feeds post hundreds of times a second, comes first.
urlpatterns = [
    path("api/", include("adserver.api.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("login/", views.login_throttle(auth_views.LoginView.as_view()), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Before the admin's own, which would redirect to any row of any brand.
    path(
        "admin/r/<int:content_type_id>/<path:object_id>/",
        admin.site.admin_view(view_on_site),
        name="admin-view-on-site",
    ),
    # The admin's own login, throttled as the dashboard's is.
    path("admin/login/", views.login_throttle(admin.site.login), name="admin-login"),
    path("admin/", admin.site.urls),
    path("", include("adserver.dashboard.urls")),
]
