// 签到二维码 (organiser): the rotating code, big, with a countdown to the next one, the live count and
// the last people in. It asks the server again when told to (at least every 5 s, and right after the
// code changes), keeps the screen on, and can switch to the sign-out code or hand a projector link.
const meetingsApi = require('../../../api/meetings');
const env = require('../../../config/env');
const time = require('../../../utils/time');
const labels = require('../../../utils/meetings');

const RETRY_MS = 3000;

Component({
  data: {
    loading: true,
    error: '',
    title: '',
    purpose: 'check_in',
    signOutEnabled: false,
    image: '',
    countdown: 0,
    counts: null,
    recent: [],
    phaseLabel: '',
  },

  methods: {
    onLoad(query) {
      this.meetingId = Number(query && query.id);
      this.skew = 0;
      this.changesAt = 0;
      wx.setKeepScreenOn({ keepScreenOn: true });
      return meetingsApi.get(this.meetingId, { silent: true }).then(
        meeting => {
          this.setData({ title: meeting.title, signOutEnabled: meeting.sign_out_enabled });
          wx.setNavigationBarTitle({ title: meeting.title });
          return this.poll();
        },
        err => this.setData({ loading: false, error: err.message })
      );
    },

    onShow() {
      if (this.hidden) {
        this.hidden = false;
        this.poll();
      }
    },

    onHide() {
      this.hidden = true;
      this.stop();
    },

    onUnload() {
      this.stop();
      wx.setKeepScreenOn({ keepScreenOn: false });
    },

    stop() {
      clearTimeout(this.pollTimer);
      clearInterval(this.tickTimer);
      this.pollTimer = null;
      this.tickTimer = null;
    },

    poll() {
      clearTimeout(this.pollTimer);
      const id = this.meetingId;
      return Promise.all([
        meetingsApi.qr(id, this.data.purpose, { silent: true }),
        meetingsApi.live(id, { silent: true }).catch(() => null),
      ]).then(
        ([qr, live]) => {
          this.skew = time.parseISO(qr.server_time) - Date.now();
          this.changesAt = time.parseISO(qr.changes_at);
          this.setData({
            loading: false,
            error: '',
            image: qr.image,
            counts: qr.counts,
            recent: live ? live.recent.map(r => ({ name: r.name, at: labels.clock(r.checked_in_at), late: r.late })) : [],
            phaseLabel: labels.PHASE_LABELS[qr.phase] || '',
          });
          this.tick();
          if (!this.tickTimer) this.tickTimer = setInterval(() => this.tick(), 1000);
          if (!this.hidden) this.pollTimer = setTimeout(() => this.poll(), qr.refresh_in_ms);
        },
        err => {
          this.setData({ loading: false, error: err.message });
          if (!this.hidden && err.statusCode !== 403 && err.statusCode !== 404 && err.statusCode !== 409) {
            this.pollTimer = setTimeout(() => this.poll(), RETRY_MS);
          }
        }
      );
    },

    tick() {
      const left = Math.max(0, Math.ceil((this.changesAt - (Date.now() + this.skew)) / 1000));
      if (left !== this.data.countdown) this.setData({ countdown: left });
    },

    onPurpose(e) {
      const purpose = e.currentTarget.dataset.purpose;
      if (purpose === this.data.purpose) return undefined;
      this.setData({ purpose, image: '' });
      return this.poll();
    },

    copyProjectorLink() {
      return meetingsApi.projectorLink(this.meetingId, this.data.purpose).then(link => {
        wx.setClipboardData({ data: env.getBaseUrl() + link.path });
        wx.showModal({
          title: '投屏链接已复制',
          content: '在会场电脑或投影的浏览器中打开此链接即可显示签到二维码，会议结束后自动失效。',
          showCancel: false,
        });
      });
    },

    revokeProjectorLinks() {
      return new Promise(resolve => {
        wx.showModal({
          title: '撤销投屏链接',
          content: '已复制出去的投屏链接将全部失效，会场屏幕需要重新打开新链接。确定撤销？',
          confirmText: '撤销',
          success: res => resolve(Boolean(res.confirm)),
          fail: () => resolve(false),
        });
      }).then(confirmed => {
        if (!confirmed) return undefined;
        return meetingsApi.revokeProjectorLinks(this.meetingId).then(
          () => wx.showToast({ title: '投屏链接已撤销', icon: 'success' }),
          err => wx.showToast({ title: err.message, icon: 'none', duration: 3000 })
        );
      });
    },
  },
});
