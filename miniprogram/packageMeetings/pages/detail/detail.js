// 会议详情: when, where, who organises it, and where I stand (签到 / 迟到 / 请假 …) with what I can
// do: scan in, ask for leave, withdraw it. The organiser (or an admin) also gets the QR code, the
// report, leave approvals, editing and cancelling — and, for a meeting of a weekly series, the series
// (its rule, next meetings, editing and stopping it), and the printable door code (a meeting with a
// geofence and 可打印固定签到码 on): downloaded with the token, previewed (from where WeChat prints,
// forwards or saves it) and saved to the album.
const meetingsApi = require('../../../api/meetings');
const labels = require('../../../utils/meetings');
const routes = require('../../../utils/routes');
const meetingPage = require('../../lib/meeting');
const { scanToCheckin } = require('../../lib/scan');

function myStatus(mine) {
  if (!mine) return '';
  if (mine.checked_in_at) return (mine.late ? '迟到签到 ' : '已签到 ') + labels.clock(mine.checked_in_at);
  if (mine.excused) return '已请假';
  if (mine.leave && mine.leave.status === 'pending') return '请假待审批';
  return '未签到';
}

// Where I stand and what I can do now, for the page data.
function details(meeting) {
  const mine = meeting.mine;
  const live = meeting.phase !== 'ended' && meeting.phase !== 'cancelled';
  const leave = mine && mine.leave;
  return {
    phaseLabel: labels.PHASE_LABELS[meeting.phase] || '',
    status: myStatus(mine),
    canScan: Boolean(mine && live && !mine.checked_in_at),
    canAskLeave: Boolean(mine && live && !mine.checked_in_at && !leave),
    canWithdraw: Boolean(leave && live && (leave.status === 'pending' || leave.status === 'approved')),
    leaveNote: leave ? '请假：' + leave.reason + '（' + leave.status_label + '）' : '',
    open: live,
  };
}

Component({
  data: Object.assign({}, meetingPage.data, {
    phaseLabel: '',
    status: '',
    canScan: false,
    canAskLeave: false,
    canWithdraw: false,
    leaveNote: '',
    open: false,
    doorCode: '',
    doorCodeLoading: false,
  }),

  methods: {
    onLoad(query) {
      this.meetingId = Number(query && query.id);
    },

    onShow() {
      return this.load();
    },

    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh());
    },

    load() {
      return meetingPage.load(this, details).then(meeting => {
        if (meeting) wx.setNavigationBarTitle({ title: meeting.title });
      });
    },

    scan: scanToCheckin,

    askLeave() {
      wx.navigateTo({ url: routes.meetings.leave(this.meetingId) });
    },

    withdraw() {
      const leave = this.data.meeting.mine.leave;
      return meetingsApi.withdrawLeave(leave.id).then(() => {
        wx.showToast({ title: '已撤回', icon: 'success' });
        return this.load();
      });
    },

    goLive() {
      wx.navigateTo({ url: routes.meetings.live(this.meetingId) });
    },

    goReport() {
      wx.navigateTo({ url: routes.meetings.report(this.meetingId) });
    },

    goLeaves() {
      wx.navigateTo({ url: routes.meetings.leaves(this.meetingId) });
    },

    goEdit() {
      wx.navigateTo({ url: routes.meetings.edit(this.meetingId) });
    },

    // 门口签到码: only for a meeting with a geofence and the door code switched on (else 409).
    doorCode() {
      const meeting = this.data.meeting;
      if (!meeting.allow_static_code) return this.explainDoorCode();
      if (this.data.doorCodeLoading) return Promise.resolve();
      this.setData({ doorCodeLoading: true });
      wx.showLoading({ title: '正在生成' });
      return meetingsApi.downloadStaticCode(this.meetingId).then(
        path => {
          wx.hideLoading();
          this.setData({ doorCodeLoading: false, doorCode: path });
          wx.previewImage({ current: path, urls: [path] });
        },
        err => {
          wx.hideLoading();
          this.setData({ doorCodeLoading: false });
          wx.showToast({ title: err.message, icon: 'none', duration: 3000 });
        }
      );
    },

    explainDoorCode() {
      return new Promise(resolve => {
        wx.showModal({
          title: '门口签到码',
          content: '固定的门口签到码需要会议设置签到范围（地理围栏），并打开“可打印固定签到码”。',
          confirmText: '去设置',
          cancelText: '知道了',
          success: res => resolve(Boolean(res.confirm)),
          fail: () => resolve(false),
        });
      }).then(edit => {
        if (edit) this.goEdit();
      });
    },

    previewDoorCode() {
      const path = this.data.doorCode;
      if (path) wx.previewImage({ current: path, urls: [path] });
    },

    saveDoorCode() {
      const filePath = this.data.doorCode;
      if (!filePath) return Promise.resolve();
      return new Promise(resolve => {
        wx.saveImageToPhotosAlbum({
          filePath,
          success: () => {
            wx.showToast({ title: '已保存到相册', icon: 'success' });
            resolve(true);
          },
          fail: res => {
            const message = (res && res.errMsg) || '';
            if (/auth|deny|denied|authorize/i.test(message)) {
              wx.showModal({
                title: '无法保存到相册',
                content: '请在设置中允许“保存到相册”后重试。',
                confirmText: '去设置',
                success: r => {
                  if (r.confirm) wx.openSetting();
                },
              });
            } else if (!/cancel/i.test(message)) {
              wx.showToast({ title: '保存失败，请重试', icon: 'none' });
            }
            resolve(false);
          },
        });
      });
    },

    goSeries() {
      wx.navigateTo({ url: routes.meetings.series(this.data.meeting.series_id) });
    },

    cancelMeeting() {
      return new Promise(resolve => {
        wx.showModal({
          title: '取消会议',
          editable: true,
          placeholderText: '取消原因（选填，将通知参会人）',
          confirmText: '取消会议',
          cancelText: '不取消',
          success: res => resolve(res.confirm ? String(res.content || '').trim() : null),
          fail: () => resolve(null),
        });
      }).then(reason => {
        if (reason === null) return undefined;
        return meetingsApi.cancel(this.meetingId, reason).then(() => {
          wx.showToast({ title: '会议已取消', icon: 'success' });
          return this.load();
        });
      });
    },
  },
});
