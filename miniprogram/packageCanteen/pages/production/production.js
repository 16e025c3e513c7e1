// 备餐单 (canteen staff): a day (today and the next 6, school time) and a meal → its menus (one per
// canteen) → the production sheet (portions ordered per dish, grouped by window; 已截止·最终 after the
// cut-off) and the pickup progress (已取 / 待取 / 未取).
const canteenApi = require('../../../api/canteen');
const dayMeal = require('../../lib/day-meal');

function byWindow(rows) {
  const groups = [];
  rows.forEach(r => {
    let group = groups.filter(g => g.id === r.window_id)[0];
    if (!group) {
      group = { id: r.window_id, name: r.window_name, rows: [], total: 0 };
      groups.push(group);
    }
    group.rows.push({ id: r.dish_id, name: r.dish_name, ordered: r.ordered, pending: r.pending, portions: r.portions });
    group.total += r.ordered;
  });
  return groups;
}

Component({
  behaviors: [dayMeal],
  data: {
    days: [],
    menus: [],
    sheet: null,
    progress: null,
    loading: false,
    error: '',
  },

  methods: {
    load() {
      this.setData({ loading: true, error: '', sheet: null, progress: null });
      return canteenApi
        .menus(this.data.date, this.data.meal, { silent: true })
        .then(menus => {
          this.setData({ menus: menus.map(m => ({ id: m.id, canteen: m.canteen_name })), current: 0 });
          return menus.length ? this.loadSheet(menus[0].id) : this.setData({ loading: false });
        })
        .catch(err => this.setData({ loading: false, error: err.message }));
    },

    loadSheet(menuId) {
      this.setData({ loading: true });
      return Promise.all([canteenApi.production(menuId, { silent: true }), canteenApi.progress(menuId, { silent: true })]).then(
        ([sheet, progress]) =>
          this.setData({
            loading: false,
            sheet: { final: sheet.final, total: sheet.total_ordered, windows: byWindow(sheet.rows) },
            progress: {
              paid: progress.paid,
              pickedUp: progress.picked_up,
              noShow: progress.no_show,
              pending: progress.pending_payment,
              all: progress.paid + progress.picked_up + progress.no_show,
            },
          }),
        err => this.setData({ loading: false, error: err.message })
      );
    },

    dayChanged() {
      return this.load();
    },

    onCanteen(e) {
      const index = Number(e.currentTarget.dataset.index);
      this.setData({ current: index });
      return this.loadSheet(this.data.menus[index].id);
    },
  },
});
