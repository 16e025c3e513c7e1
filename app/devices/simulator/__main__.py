"""``python -m app.devices.simulator --port 5002``: the locker controller simulator as its own process."""

from __future__ import annotations

import argparse
import logging

from werkzeug.serving import make_server

from app.devices.simulator import add_controller, create_simulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.devices.simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5002)
    parser.add_argument("--heartbeat-seconds", type=float, default=5.0)
    parser.add_argument("--controller", help="a controller to play from the start (the dev runner's demo bank)")
    parser.add_argument("--secret", default="")
    parser.add_argument("--server-url", default="", help="where our server is (door events, heartbeats)")
    parser.add_argument("--compartments", default="", help="its compartments, comma-separated")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    app = create_simulator(heartbeat_seconds=args.heartbeat_seconds)
    if args.controller:
        add_controller(app, args.controller, secret=args.secret, server_url=args.server_url,
                       compartments=[c for c in args.compartments.split(",") if c])
    logging.getLogger(__name__).info("locker simulator on http://%s:%s/", args.host, args.port)
    make_server(args.host, args.port, app, threaded=True).serve_forever()


if __name__ == "__main__":
    main()
