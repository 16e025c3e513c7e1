"""``python -m app.wechat.simulator --host 127.0.0.1 --port 5001``: serve the simulator alone.

WeChat Pay is served with ``--pay-keys-dir`` (or ``WECHATPAY_SIM_KEYS_DIR``): a directory made by
``app.wechat.paykeys`` (the backend's ``WECHATPAY_*`` settings point at the same files).
"""

from __future__ import annotations

import argparse
import logging
import os

from app.wechat.paykeys import DEFAULT_MCHID
from app.wechat.simulator import create_simulator
from app.wechat.simulator.server import make_simulator_server

log = logging.getLogger("app.wechat.simulator")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m app.wechat.simulator", description="Serve the WeChat simulator (threaded werkzeug)."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--app-id", default="wx0000000000sim00")
    parser.add_argument("--app-secret", default="sim-app-secret")
    parser.add_argument("--corp-id", default=None)
    parser.add_argument("--corp-secret", default=None)
    parser.add_argument("--lenient-quota", action="store_true", help="every subscribe message succeeds")
    parser.add_argument("--strict-templates", action="store_true", help="only registered template ids")
    parser.add_argument("--mchid", default=os.environ.get("WECHATPAY_SIM_MCHID") or DEFAULT_MCHID,
                        help="the WeChat Pay merchant id (env WECHATPAY_SIM_MCHID)")
    parser.add_argument("--pay-keys-dir", default=os.environ.get("WECHATPAY_SIM_KEYS_DIR") or None,
                        help="WeChat Pay key directory made by app.wechat.paykeys (env WECHATPAY_SIM_KEYS_DIR); "
                             "without it the /v3/ paths answer 501")
    args = parser.parse_args(argv)
    app = create_simulator(
        args.app_id,
        args.app_secret,
        args.corp_id,
        args.corp_secret,
        lenient_quota=args.lenient_quota,
        strict_templates=args.strict_templates,
        mchid=args.mchid,
        pay_keys_dir=args.pay_keys_dir,
    )
    server = make_simulator_server(app, args.host, args.port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    log.info("WeChat simulator on http://%s:%s/", args.host, server.server_port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
