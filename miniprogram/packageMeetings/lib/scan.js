// 扫码签到 from a button: WeChat's scanner, then a meeting's code (its rotating check-in code or the
// meeting's own code) goes to onTarget(target) ({type: 'checkin' | 'meeting', …}, utils/scene);
// anything else is 这不是签到码.
const scene = require('../../utils/scene');
const routes = require('../../utils/routes');

function scanCheckin(onTarget) {
  wx.scanCode({
    scanType: ['qrCode', 'wxCode'],
    success: res => {
      const target = scene.parseScanResult(res);
      if (target && (target.type === 'checkin' || target.type === 'meeting')) onTarget(target);
      else wx.showToast({ title: '这不是签到码', icon: 'none' });
    },
  });
}

// The scanned meeting's 签到 page.
function scanToCheckin() {
  scanCheckin(target => wx.navigateTo({ url: routes.meetings.checkin(target) }));
}

module.exports = { scanCheckin, scanToCheckin };
