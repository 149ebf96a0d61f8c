from django.urls import path

from adserver.dashboard import edit_views, log_views, views

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("brands/", views.brand_list, name="brand-list"),
    path("brands/new/", edit_views.brand_create, name="brand-create"),
    path("brands/<int:pk>/", views.brand_detail, name="brand-detail"),
    path("brands/<int:pk>/edit/", edit_views.brand_edit, name="brand-edit"),
    path("brands/<int:pk>/budgets/new/", edit_views.budget_create, name="budget-create"),
    path("brands/<int:pk>/campaigns/new/", edit_views.campaign_create, name="campaign-create"),
    path("budgets/", views.budget_list, name="budget-list"),
    path("budgets/<int:pk>/", views.budget_detail, name="budget-detail"),
    path("budgets/<int:pk>/edit/", edit_views.budget_edit, name="budget-edit"),
    path("campaigns/", views.campaign_list, name="campaign-list"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign-detail"),
    path("campaigns/<int:pk>/edit/", edit_views.campaign_edit, name="campaign-edit"),
    path("campaigns/<int:pk>/pause/", views.campaign_pause, name="campaign-pause"),
    path("campaigns/<int:pk>/resume/", views.campaign_resume, name="campaign-resume"),
    path("campaigns/<int:pk>/dayparts/new/", edit_views.daypart_create, name="daypart-create"),
    path("dayparts/<int:pk>/edit/", edit_views.daypart_edit, name="daypart-edit"),
    path("dayparts/<int:pk>/delete/", edit_views.daypart_delete, name="daypart-delete"),
    path("spend/", log_views.spend_list, name="spend-list"),
    path("spend/<int:pk>/", log_views.spend_detail, name="spend-detail"),
    path("alerts/", log_views.alert_list, name="alert-list"),
    path("alerts/acknowledge/", log_views.alert_acknowledge, name="alert-acknowledge"),
    path("alerts/<int:pk>/", log_views.alert_detail, name="alert-detail"),
    path("history/", log_views.history_list, name="history-list"),
    path("history/<int:pk>/", log_views.history_detail, name="history-detail"),
]
