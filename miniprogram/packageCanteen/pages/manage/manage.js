// 菜单管理 (canteen staff): two tabs over one canteen (a tab per canteen when there are several).
//   菜品 — every dish with its thumbnail, price in yuan, tags and allergens; 新增菜品 or tap one to edit
//          (name, price typed in yuan and sent in fen, tags, allergens, window for a new dish) →
//          POST /canteen/canteens/{id}/dishes or PUT /canteen/dishes/{id}; 上传照片 / 更换照片 picks one
//          with wx.chooseMedia and sends it with wx.uploadFile (POST /canteen/dishes/{id}/photo: checked
//          and re-encoded by the server, whose message shows by the photo when it refuses one); 删除照片.
//   菜单 — the day strip (today + 6, school time) and 早/午/晚: a published menu shows each dish's
//          portions (修改 → PUT /canteen/menu-items/{id}/portions, never below what is ordered), what is
//          left and the cap; a meal without one is a draft — pick dishes, portions and a cap per person,
//          发布菜单 (POST /canteen/menus: orders open at once). 复制本周到下周 copies the chosen day's week
//          (Monday to Sunday) to the next (POST /canteen/menus/copy-week; meals with a menu are skipped).
// The server decides who may: someone not on the canteen staff gets its 403 message.
const canteenApi = require('../../../api/canteen');
const { yuanToFen } = require('../../../utils/money');
const { pickImages } = require('../../../utils/media');
const view = require('../../lib/view');
const dayMeal = require('../../lib/day-meal');

const DEFAULT_PORTIONS = '50';
const DEFAULT_CAP = '2';

function wholeNumber(text, min, max) {
  const value = String(text === undefined ? '' : text).trim();
  if (!/^\d{1,6}$/.test(value)) return null;
  const n = Number(value);
  return n >= min && n <= max ? n : null;
}

function confirm(title, content) {
  return new Promise(resolve => {
    wx.showModal({ title, content, success: res => resolve(Boolean(res && res.confirm)), fail: () => resolve(false) });
  });
}

Component({
  behaviors: [dayMeal],
  data: {
    tab: 'dishes',
    canteens: [],
    current: 0,
    windows: [],
    dishes: [],
    form: null, // {id, name, yuan, tags, allergens, windowIndex, thumb, photo, photoBusy, photoError}
    errors: {},
    saving: false,
    days: [],
    date: '',
    meals: [],
    meal: 'lunch',
    menu: null, // the published menu of this canteen, day and meal: {id, cutoff, items: [{id, name, portions, remaining, cap, input}]}
    draft: [], // no menu yet: [{dishId, name, price, on, portions, cap}]
    publishing: false,
    copying: false,
    loading: false,
    error: '',
  },

  methods: {
    canteenId() {
      const canteen = this.data.canteens[this.data.current];
      return canteen ? canteen.id : null;
    },

    load() {
      this.setData({ loading: true, error: '' });
      return canteenApi.canteens({ silent: true }).then(
        canteens => {
          this.setData({ canteens, current: Math.min(this.data.current, Math.max(canteens.length - 1, 0)) });
          return this.loadCanteen();
        },
        err => this.setData({ loading: false, error: err.message })
      );
    },

    loadCanteen() {
      const id = this.canteenId();
      if (!id) {
        this.setData({ loading: false, dishes: [], windows: [], menu: null, draft: [] });
        return Promise.resolve();
      }
      return Promise.all([canteenApi.windows(id, { silent: true }), canteenApi.dishes(id, { silent: true })]).then(
        ([windows, dishes]) => {
          this.setData({ windows, dishes: dishes.map(d => view.dish(d, windows)), loading: false });
          return this.loadMenu();
        },
        err => this.setData({ loading: false, error: err.message })
      );
    },

    onCanteen(e) {
      this.setData({ current: Number(e.currentTarget.dataset.index), form: null, errors: {} });
      return this.loadCanteen();
    },

    onTab(e) {
      this.setData({ tab: e.currentTarget.dataset.tab });
    },

    // --- dishes ---------------------------------------------------------------------------------

    onNewDish() {
      this.setData({
        form: { id: null, name: '', yuan: '', tags: '', allergens: '', windowIndex: 0, thumb: '', photo: '', photoBusy: false, photoError: '' },
        errors: {},
      });
    },

    onEditDish(e) {
      const d = this.data.dishes.filter(x => x.id === Number(e.currentTarget.dataset.id))[0];
      if (!d) return;
      const windowIndex = Math.max(0, this.data.windows.map(w => w.id).indexOf(d.windowId));
      this.setData({
        form: { id: d.id, name: d.name, yuan: d.yuan, tags: d.tags, allergens: d.allergens, windowIndex, thumb: d.thumb, photo: d.photo, photoBusy: false, photoError: '' },
        errors: {},
      });
    },

    onCloseForm() {
      this.setData({ form: null, errors: {} });
    },

    onField(e) {
      this.setData({ ['form.' + e.currentTarget.dataset.field]: e.detail.value });
    },

    onWindow(e) {
      this.setData({ 'form.windowIndex': Number(e.detail.value) });
    },

    // The form as the API takes it, or null with the page's `errors` set.
    dishBody() {
      const f = this.data.form;
      const errors = {};
      const name = String(f.name || '').trim();
      if (!name) errors.name = '请输入菜名';
      else if (name.length > 40) errors.name = '菜名最多 40 个字';
      const priceFen = yuanToFen(f.yuan);
      if (!priceFen) errors.price = '请输入价格（元），如 12 或 12.5';
      const tags = view.words(f.tags);
      const allergens = view.words(f.allergens);
      if (tags.length > 10 || tags.some(t => t.length > 20)) errors.tags = '最多 10 个标签，每个不超过 20 个字';
      if (allergens.length > 10 || allergens.some(t => t.length > 20)) errors.allergens = '最多 10 项，每项不超过 20 个字';
      const window = this.data.windows[f.windowIndex];
      if (!f.id && !window) errors.window = '请先在管理后台添加窗口';
      this.setData({ errors });
      const first = errors[Object.keys(errors)[0]];
      if (first) {
        wx.showToast({ title: first, icon: 'none' });
        return null;
      }
      const body = { name, price_fen: priceFen, tags, allergens };
      if (window) body.window_id = window.id;
      return body;
    },

    onSaveDish() {
      if (this.data.saving || !this.data.form) return undefined;
      const body = this.dishBody();
      if (!body) return undefined;
      const id = this.data.form.id;
      this.setData({ saving: true });
      const call = id ? canteenApi.updateDish(id, body) : canteenApi.createDish(this.canteenId(), body);
      return call.then(
        raw => {
          this.showDish(raw);
          this.setData({ saving: false, 'form.id': raw.id });
          wx.showToast({ title: id ? '已保存' : '已添加，可以上传照片', icon: 'none' });
        },
        () => this.setData({ saving: false }) // request() has toasted the server's message
      );
    },

    // A dish the server answered: in the list (added or replaced) and in the open form's photo.
    showDish(raw) {
      const d = view.dish(raw, this.data.windows);
      const index = this.data.dishes.map(x => x.id).indexOf(d.id);
      const dishes = this.data.dishes.slice();
      if (index < 0) dishes.push(d);
      else dishes[index] = d;
      const update = { dishes };
      if (this.data.form && (this.data.form.id === d.id || this.data.form.id === null)) {
        update['form.thumb'] = d.thumb;
        update['form.photo'] = d.photo;
      }
      this.setData(update);
    },

    onChoosePhoto() {
      const form = this.data.form;
      if (!form || form.photoBusy) return undefined;
      if (!form.id) {
        wx.showToast({ title: '请先保存菜品，再上传照片', icon: 'none' });
        return undefined;
      }
      const id = form.id;
      return pickImages(1).then(paths => {
        if (!paths.length) return undefined; // cancelled
        this.setData({ 'form.photoBusy': true, 'form.photoError': '' });
        return canteenApi.uploadDishPhoto(id, paths[0]).then(
          raw => {
            this.showDish(raw);
            this.setData({ 'form.photoBusy': false });
            wx.showToast({ title: '照片已更新', icon: 'none' });
          },
          err => this.setData({ 'form.photoBusy': false, 'form.photoError': err.message })
        );
      });
    },

    onRemovePhoto() {
      const form = this.data.form;
      if (!form || !form.id || !form.photo || form.photoBusy) return undefined;
      return confirm('删除照片', '删除「' + form.name + '」的照片？').then(ok => {
        if (!ok) return undefined;
        this.setData({ 'form.photoBusy': true });
        return canteenApi.removeDishPhoto(form.id).then(
          raw => {
            this.showDish(raw);
            this.setData({ 'form.photoBusy': false, 'form.photoError': '' });
          },
          () => this.setData({ 'form.photoBusy': false })
        );
      });
    },

    onPreviewPhoto() {
      const photo = this.data.form && this.data.form.photo;
      if (photo) wx.previewImage({ current: photo, urls: [photo] });
    },

    // --- menus ----------------------------------------------------------------------------------

    loadMenu() {
      const id = this.canteenId();
      return canteenApi.menus(this.data.date, this.data.meal, { silent: true }).then(
        menus => {
          const raw = menus.filter(m => m.canteen_id === id)[0];
          if (raw) {
            const shown = view.menu(raw, Date.now());
            const items = raw.items.map(i => ({
              id: i.id,
              name: i.name,
              portions: i.portions,
              remaining: i.remaining,
              cap: i.max_per_person,
              input: String(i.portions),
            }));
            this.setData({ menu: { id: raw.id, cutoff: shown.cutoff, items }, draft: [] });
          } else {
            const draft = this.data.dishes.map(d => ({ dishId: d.id, name: d.name, price: d.price, on: false, portions: DEFAULT_PORTIONS, cap: DEFAULT_CAP }));
            this.setData({ menu: null, draft });
          }
        },
        err => this.setData({ error: err.message })
      );
    },

    dayChanged() {
      return this.loadMenu();
    },

    onPortionsInput(e) {
      this.setData({ ['menu.items[' + e.currentTarget.dataset.index + '].input']: e.detail.value });
    },

    onSavePortions(e) {
      const index = Number(e.currentTarget.dataset.index);
      const item = this.data.menu.items[index];
      const portions = wholeNumber(item.input, 0, 100000);
      if (portions === null) {
        wx.showToast({ title: '份数应为 0 到 100000 的整数', icon: 'none' });
        return undefined;
      }
      return canteenApi.setPortions(item.id, portions).then(
        raw => {
          const at = 'menu.items[' + index + ']';
          this.setData({ [at + '.portions']: raw.portions, [at + '.remaining']: raw.remaining, [at + '.input']: String(raw.portions) });
          wx.showToast({ title: '已更新份数', icon: 'none' });
        },
        () => this.setData({ ['menu.items[' + index + '].input']: String(item.portions) }) // the server's message was toasted
      );
    },

    onToggleDraft(e) {
      const index = Number(e.currentTarget.dataset.index);
      this.setData({ ['draft[' + index + '].on']: !this.data.draft[index].on });
    },

    onDraftInput(e) {
      const { index, field } = e.currentTarget.dataset;
      this.setData({ ['draft[' + index + '].' + field]: e.detail.value });
    },

    onPublish() {
      if (this.data.publishing) return undefined;
      const chosen = this.data.draft.filter(d => d.on);
      if (!chosen.length) {
        wx.showToast({ title: '请至少选择一道菜', icon: 'none' });
        return undefined;
      }
      const items = [];
      for (let i = 0; i < chosen.length; i += 1) {
        const portions = wholeNumber(chosen[i].portions, 0, 100000);
        const cap = wholeNumber(chosen[i].cap, 1, 20);
        if (portions === null || cap === null) {
          wx.showToast({ title: chosen[i].name + '：份数 0–100000，每人限购 1–20', icon: 'none' });
          return undefined;
        }
        items.push({ dish_id: chosen[i].dishId, portions, max_per_person: cap });
      }
      const meal = this.data.meals.filter(m => m.key === this.data.meal)[0];
      const title = view.monthDay(this.data.date) + meal.label;
      return confirm('发布菜单', '发布' + title + '（' + items.length + ' 道菜）？发布后即可订餐。').then(ok => {
        if (!ok) return undefined;
        this.setData({ publishing: true });
        return canteenApi
          .createMenu({ canteen_id: this.canteenId(), day: this.data.date, meal: this.data.meal, items })
          .then(
            () => {
              this.setData({ publishing: false });
              wx.showToast({ title: '已发布', icon: 'success' });
              return this.loadMenu();
            },
            () => this.setData({ publishing: false })
          );
      });
    },

    onCopyWeek() {
      if (this.data.copying) return undefined;
      const monday = view.mondayOf(this.data.date);
      return confirm('复制到下周', '把 ' + view.monthDay(monday) + ' 起一周的菜单复制到下一周？下周已有菜单的餐次不变。').then(ok => {
        if (!ok) return undefined;
        this.setData({ copying: true });
        return canteenApi.copyWeek(this.canteenId(), monday).then(
          made => {
            this.setData({ copying: false });
            wx.showToast({ title: made.length ? '已复制 ' + made.length + ' 个菜单' : '没有需要复制的菜单', icon: 'none' });
          },
          () => this.setData({ copying: false })
        );
      });
    },
  },
});
