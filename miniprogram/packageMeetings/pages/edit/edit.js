// 发起会议 / 编辑会议 (organiser): title, room (by its code, as printed on the door) or a free
// location, date and times, check-in window, who is invited (all staff and/or departments), an
// optional geofence picked on the map (needed for a printed door code), sign-out, and — for a new
// meeting — a weekly series. ?id= edits one meeting; ?series= edits a weekly series (no date: the
// weekday stays; the meetings not yet started and not edited on their own follow). Invitees set in
// the admin console (classes, roles, named people) are kept as they are.
const meetingsApi = require('../../../api/meetings');
const orgApi = require('../../../api/org');
const placesApi = require('../../../api/places');
const labels = require('../../../utils/meetings');
const routes = require('../../../utils/routes');

Component({
  data: {
    loading: true,
    editing: false,
    series: false,
    seriesWeekly: '',
    audienceExtra: '',
    form: labels.emptyForm(),
    departments: [],
    errors: {},
    formError: '',
    submitting: false,
  },

  methods: {
    onLoad(query) {
      this.meetingId = query && query.id ? Number(query.id) : null;
      this.seriesId = query && query.series ? Number(query.series) : null;
      this.setData({ editing: Boolean(this.meetingId || this.seriesId), series: Boolean(this.seriesId) });
      wx.setNavigationBarTitle({ title: this.seriesId ? '编辑周期会议' : this.meetingId ? '编辑会议' : '发起会议' });
      let loading = Promise.resolve(null);
      if (this.seriesId) loading = meetingsApi.getSeries(this.seriesId).then(s => ({ form: labels.fromSeries(s), series: s }));
      else if (this.meetingId) loading = meetingsApi.get(this.meetingId).then(m => ({ form: labels.fromMeeting(m), location: m.location }));
      return Promise.all([orgApi.departments({ silent: true }).catch(() => []), loading]).then(
        ([departments, loaded]) => {
          const form = loaded ? loaded.form : this.data.form;
          this.setData({
            loading: false,
            form,
            departments: this.markDepartments(departments, form.departmentIds),
            audienceExtra: labels.audienceExtraText(form),
            seriesWeekly: loaded && loaded.series ? labels.weeklyText(loaded.series) : '',
          });
          return form.placeId ? this.showRoom(form.placeId, loaded && loaded.location) : undefined;
        },
        err => this.setData({ loading: false, formError: err.message })
      );
    },

    // The room of a meeting being edited: its name, its code in the room field, and the detail the
    // organiser added (the meeting's location reads "<room>（<detail>）").
    showRoom(placeId, meetingLocation) {
      return placesApi.get(placeId, { silent: true }).then(
        place => {
          const name = place.full_name || place.name;
          const update = { 'form.roomCode': place.code || '', 'form.placeName': name };
          const text = String(meetingLocation || '');
          if (text.indexOf(name + '（') === 0 && text.slice(-1) === '）') update['form.location'] = text.slice(name.length + 1, -1);
          this.setData(update);
        },
        () => undefined
      );
    },

    markDepartments(departments, selected) {
      return departments.map(d => ({ id: d.id, name: d.name, checked: selected.indexOf(d.id) >= 0 }));
    },

    set(field, value) {
      const errors = Object.assign({}, this.data.errors);
      delete errors[field];
      if (field === 'start' || field === 'end') delete errors.time;
      this.setData({ ['form.' + field]: value, errors, formError: '' });
    },

    onInput(e) {
      this.set(e.currentTarget.dataset.field, e.detail.value);
    },

    onSwitch(e) {
      this.set(e.currentTarget.dataset.field, Boolean(e.detail.value));
    },

    onDepartments(e) {
      const ids = e.detail.value.map(Number);
      this.set('departmentIds', ids);
      this.setData({ departments: this.markDepartments(this.data.departments, ids), 'errors.audience': '' });
    },

    // The room's code (printed on its door code, e.g. E-ADM-301) -> the room of the places tree.
    onRoomCode(e) {
      const code = String(e.detail.value || '').trim();
      if (!code) {
        this.setData({ 'form.roomCode': '', 'form.placeId': null, 'form.placeName': '' });
        return Promise.resolve();
      }
      return placesApi.getByCode(code, { silent: true }).then(
        place => {
          this.setData({ 'form.roomCode': code, 'form.placeId': place.id, 'form.placeName': place.full_name });
          this.set('location', this.data.form.location);
        },
        () => this.setData({ 'form.roomCode': code, 'form.placeId': null, 'form.placeName': '', 'errors.location': '未找到该会议室编码' })
      );
    },

    chooseFence() {
      wx.chooseLocation({
        success: res => this.set('geofence', { latitude: res.latitude, longitude: res.longitude, name: res.name || res.address || '' }),
      });
    },

    clearFence() {
      this.setData({ 'form.geofence': null, 'form.allowStaticCode': false });
    },

    submit() {
      const form = this.data.form;
      const errors = labels.validate(form);
      if (Object.keys(errors).length) {
        this.setData({ errors, formError: '请检查标红的项目' });
        return Promise.resolve();
      }
      if (this.data.submitting) return Promise.resolve();
      this.setData({ submitting: true, formError: '' });
      const payload = labels.toPayload(form);
      if (this.seriesId) return this.saveSeries(payload);
      let saving;
      if (this.meetingId) saving = meetingsApi.update(this.meetingId, payload, { silent: true });
      else if (form.weekly) saving = meetingsApi.createSeries(payload, { silent: true }).then(s => ({ id: s.occurrences[0].id }));
      else saving = meetingsApi.create(payload, { silent: true });
      return saving.then(
        meeting => {
          this.setData({ submitting: false });
          wx.showToast({ title: this.meetingId ? '已保存' : '已发起，参会人会收到通知', icon: 'success' });
          wx.redirectTo({ url: routes.meetings.detail(meeting.id) });
        },
        err => this.setData({ submitting: false, formError: err.message })
      );
    },

    // Back to the series page, which shows the series again.
    saveSeries(payload) {
      return meetingsApi.updateSeries(this.seriesId, payload, { silent: true }).then(
        () => {
          this.setData({ submitting: false });
          wx.showToast({ title: '已保存，未开始的会议已同步', icon: 'none' });
          wx.navigateBack();
        },
        err => this.setData({ submitting: false, formError: err.message })
      );
    },
  },
});
