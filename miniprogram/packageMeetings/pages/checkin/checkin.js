// 签到结果: opened from a scanned code — a rotating code (?t=<token>[&g=1], or the plain QR link as
// q=…) or a printed door code (?scene=m%3D<code>, ?code=<code>) — sends the scan once and says
// clearly what happened and why. A retry after a network failure reuses the nonce, so the server
// answers once; a new scan gets a new nonce.
const meetingsApi = require('../../../api/meetings');
const scene = require('../../../utils/scene');
const labels = require('../../../utils/meetings');
const routes = require('../../../utils/routes');
const { scanCheckin } = require('../../lib/scan');

function decode(value) {
  try {
    return decodeURIComponent(value);
  } catch (e) {
    return value;
  }
}

function targetFrom(query) {
  if (!query) return null;
  if (query.t) return { type: 'checkin', code: decode(query.t), geo: query.g === '1' };
  if (query.code) return { type: 'meeting', code: decode(query.code) };
  const target = scene.parseScene(query);
  return target && (target.type === 'meeting' || target.type === 'checkin') ? target : null;
}

const DEVICE_KEYS = ['brand', 'model', 'system', 'platform', 'version', 'SDKVersion'];

function deviceInfo() {
  try {
    const info = wx.getSystemInfoSync();
    const out = {};
    DEVICE_KEYS.forEach(key => {
      if (info && info[key] !== undefined && info[key] !== null) out[key] = String(info[key]).slice(0, 64);
    });
    return out;
  } catch (e) {
    return undefined;
  }
}

// The phone's location (GCJ-02, like the map the organiser picked the hall on), or null if refused.
function currentLocation() {
  return new Promise(resolve => {
    wx.getLocation({
      type: 'gcj02',
      isHighAccuracy: true,
      highAccuracyExpireTime: 3000,
      success: res => resolve({ latitude: res.latitude, longitude: res.longitude, accuracy: res.accuracy }),
      fail: () => resolve(null),
    });
  });
}

function tone(answer) {
  if (answer.status === 'ok') return answer.late ? 'warn' : 'ok';
  return answer.reason === 'already_checked_in' || answer.reason === 'already_signed_out' ? 'info' : 'error';
}

Component({
  data: {
    state: 'loading', // loading | result | error | invalid
    answer: null,
    tone: '',
    title: '',
    message: '',
    meetingTitle: '',
    when: '',
    where: '',
    checkedInAt: '',
    canRescan: false,
    locationDenied: false,
    needBind: false,
  },

  methods: {
    onLoad(query) {
      this.target = targetFrom(query);
      if (!this.target) {
        this.setData({ state: 'invalid', title: '无法识别的签到码', message: '请扫描会场展示的签到二维码' });
        return undefined;
      }
      this.nonce = labels.newNonce();
      return this.send();
    },

    send() {
      const target = this.target;
      const needsLocation = target.type === 'meeting' || Boolean(target.geo);
      this.setData({ state: 'loading', locationDenied: false, needBind: false });
      return (needsLocation ? currentLocation() : Promise.resolve(null))
        .then(location => {
          const payload = { nonce: this.nonce };
          if (target.type === 'checkin') payload.token = target.code;
          else payload.code = target.code;
          if (location) payload.location = location;
          const device = deviceInfo();
          if (device) payload.device = device;
          return meetingsApi.checkIn(payload, { silent: true }).then(answer => this.show(answer, needsLocation && !location));
        })
        .catch(err =>
          this.setData({
            state: 'error',
            title: err.statusCode === 429 ? '扫码太频繁' : '签到未完成',
            message: err.message,
            needBind: err.error_code === 'auth.not_bound',
          })
        );
    },

    show(answer, locationDenied) {
      const meeting = answer.meeting;
      this.meetingId = meeting ? meeting.id : null;
      this.setData({
        state: 'result',
        answer,
        tone: tone(answer),
        title: labels.resultTitle(answer),
        message: answer.message,
        meetingTitle: meeting ? meeting.title : '',
        when: meeting ? labels.timeRange(meeting.starts_at, meeting.ends_at) : '',
        where: meeting ? meeting.location : '',
        checkedInAt: answer.checked_in_at ? labels.clock(answer.checked_in_at) : '',
        canRescan: answer.status !== 'ok' && labels.RESCANNABLE.indexOf(answer.reason) >= 0,
        locationDenied: Boolean(locationDenied && answer.reason === 'out_of_range'),
      });
      wx.setNavigationBarTitle({ title: answer.action === 'sign_out' ? '签退' : '签到' });
    },

    // After a network failure: the same nonce, so a scan that did reach the server is not counted twice.
    retry() {
      return this.send();
    },

    rescan() {
      scanCheckin(target => {
        this.target = target;
        this.nonce = labels.newNonce();
        this.send();
      });
    },

    openSettings() {
      wx.openSetting({});
    },

    goMeeting() {
      if (this.meetingId) wx.redirectTo({ url: routes.meetings.detail(this.meetingId) });
    },

    goBind() {
      wx.switchTab({ url: routes.ME });
    },
  },
});
