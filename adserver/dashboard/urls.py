from django.urls import path

from adserver.dashboard import log_views, views

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("brands/", views.brand_list, name="brand-list"),
    path("brands/<int:pk>/", views.brand_detail, name="brand-detail"),
    path("budgets/", views.budget_list, name="budget-list"),
    path("budgets/<int:pk>/", views.budget_detail, name="budget-detail"),
    path("campaigns/", views.campaign_list, name="campaign-list"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign-detail"),
    path("campaigns/<int:pk>/pause/", views.campaign_pause, name="campaign-pause"),
    path("campaigns/<int:pk>/resume/", views.campaign_resume, name="campaign-resume"),
    path("spend/", log_views.spend_list, name="spend-list"),
    path("spend/<int:pk>/", log_views.spend_detail, name="spend-detail"),
    path("alerts/", log_views.alert_list, name="alert-list"),
    path("alerts/<int:pk>/", log_views.alert_detail, name="alert-detail"),
    path("history/", log_views.history_list, name="history-list"),
    path("history/<int:pk>/", log_views.history_detail, name="history-detail"),
]
