"""The devices' errors: stable codes, Chinese messages."""

from __future__ import annotations

from app.core.errors import AppError, Unauthorized


class DeviceUnauthorized(Unauthorized):
    error_code, message = "devices.unauthorized", "设备签名无效或请求已过期"


class DeviceOffline(AppError):
    status, error_code, message = 503, "devices.offline", "设备离线，请稍后再试"


class DeviceRefused(AppError):
    status, error_code, message = 502, "devices.refused", "设备拒绝了请求"
