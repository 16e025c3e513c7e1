"""WeChat adapters (wechatpy behind ``client``, our exceptions in ``errors``) and the offline simulator.

Services call the functions of ``app.wechat.client`` and catch ``app.wechat.errors``; nothing else in
the backend imports wechatpy. ``pay`` is WeChat Pay v3 (wechatpayv3 behind a provider interface;
nothing else imports wechatpayv3) and ``paykeys`` makes its key material for development and tests.
``simulator`` speaks WeChat's protocols for development and tests and ``simulator_control`` drives it.
"""
