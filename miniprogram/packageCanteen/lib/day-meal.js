// The day strip (today + 6, school time: view.dayMealPicker) and the 早/午/晚 tabs that 订餐, 备餐单 and
// 菜单管理 share, as a Behavior: onLoad shows today's lunch and calls the page's `load()` (订餐 has its
// own onLoad, for the day and meal of a link), as does a pull-down; a tap on another day or meal sets
// it and calls the page's `dayChanged()`, which loads that day's menus; a tap on the one shown does nothing.
const view = require('./view');

module.exports = Behavior({
  methods: {
    onLoad() {
      this.setData(view.dayMealPicker());
      return this.load();
    },

    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh());
    },

    onDate(e) {
      const date = e.currentTarget.dataset.date;
      if (date === this.data.date) return undefined;
      this.setData({ date });
      return this.dayChanged();
    },

    onMeal(e) {
      const meal = e.currentTarget.dataset.meal;
      if (meal === this.data.meal) return undefined;
      this.setData({ meal });
      return this.dayChanged();
    },
  },
});
