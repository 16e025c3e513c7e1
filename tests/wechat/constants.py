"""Credentials the test simulator is built with (what the settings would hold)."""

APP_ID = "wx0000000000sim00"
APP_SECRET = "sim-app-secret"
CORP_ID = "wwsimcorp0000001"
CORP_SECRET = "sim-corp-secret-0123456789"
AGENT_ID = 1000002
MCHID = "1900000109"
