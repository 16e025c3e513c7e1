"""``python -m app.wechat.simulator``: serve the simulator (see the package docstring)."""

from app.wechat.simulator import main

main()
