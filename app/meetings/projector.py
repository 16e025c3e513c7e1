"""The projector page: a plain HTML page for a browser on a big screen (no login, no CDN).

It polls ``<its own URL>/qr`` (the signed key in the path is the credential), swaps the QR image when
the slot changes, counts down to the next code with the server's clock, and shows the live count.
It shows no names: a projector is public.
"""

PROJECTOR_HTML = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>会议签到</title>
<style>
  body { margin: 0; font-family: -apple-system, "PingFang SC", "Microsoft YaHei", sans-serif; background: #f5f6f7;
         color: #1f2329; display: flex; flex-direction: column; align-items: center; justify-content: center;
         min-height: 100vh; }
  h1 { font-size: 4vh; margin: 2vh 0 1vh; }
  #purpose { color: #07c160; font-size: 2.6vh; }
  #qr { width: 60vh; height: 60vh; background: #fff; border-radius: 2vh; padding: 2vh; image-rendering: pixelated; }
  #countdown { font-size: 2.4vh; color: #646a73; margin-top: 1.5vh; }
  #counts { font-size: 3.2vh; margin-top: 1.5vh; }
  #counts b { color: #07c160; font-size: 4.4vh; }
  #error { color: #fa5151; font-size: 3vh; margin-top: 2vh; }
</style>
</head>
<body>
<h1 id="title">会议签到</h1>
<div id="purpose">请使用微信扫一扫签到</div>
<img id="qr" alt="签到二维码">
<div id="countdown"></div>
<div id="counts"></div>
<div id="error"></div>
<script>
(function () {
  var url = window.location.pathname.replace(/\\/$/, '') + '/qr';
  var changesAt = 0, skew = 0, timer = null;
  function $(id) { return document.getElementById(id); }
  function tick() {
    var left = Math.max(0, Math.ceil((changesAt - (Date.now() + skew)) / 1000));
    $('countdown').textContent = '二维码 ' + left + ' 秒后刷新，截图转发无效';
  }
  function load() {
    fetch(url, { cache: 'no-store' }).then(function (res) {
      return res.json().then(function (body) { return { ok: res.ok, body: body }; });
    }).then(function (r) {
      if (!r.ok) { $('error').textContent = r.body.message || '加载失败'; $('qr').style.opacity = 0.2;
                   timer = setTimeout(load, 10000); return; }
      var q = r.body;
      $('error').textContent = '';
      $('qr').style.opacity = 1;
      $('title').textContent = q.title;
      $('purpose').textContent = q.purpose === 'sign_out' ? '请使用微信扫一扫签退' : '请使用微信扫一扫签到';
      $('qr').src = q.image;
      skew = Date.parse(q.server_time) - Date.now();
      changesAt = Date.parse(q.changes_at);
      var c = q.counts;
      $('counts').innerHTML = '已签到 <b>' + c.checked_in + '</b> / ' + c.invited + ' 人　迟到 ' + c.late +
        '　请假 ' + c.excused;
      tick();
      timer = setTimeout(load, q.refresh_in_ms);
    }).catch(function () { $('error').textContent = '网络异常，正在重试…'; timer = setTimeout(load, 3000); });
  }
  setInterval(tick, 1000);
  load();
})();
</script>
</body>
</html>
"""
