from django.urls import path

from .apis import LogoutAllApi, LogoutApi, MeApi, TokenApi, TokenDetailApi, TokenListApi

urlpatterns = [
    path("auth/token/", TokenApi.as_view(), name="api-token"),
    path("auth/logout/", LogoutApi.as_view(), name="api-logout"),
    path("auth/logout-all/", LogoutAllApi.as_view(), name="api-logout-all"),
    path("auth/tokens/", TokenListApi.as_view(), name="api-tokens"),
    path("auth/tokens/<str:token_id>/", TokenDetailApi.as_view(), name="api-token-detail"),
    path("me/", MeApi.as_view(), name="api-me"),
]
