"""WeChat adapters (wechatpy behind ``client``, our exceptions in ``errors``) and the offline simulator.

Services call the functions of ``app.wechat.client`` and catch ``app.wechat.errors``; nothing else in
the backend imports wechatpy. ``simulator`` speaks WeChat's protocols for development and tests and
``simulator_control`` drives it.
"""
