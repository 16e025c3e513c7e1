// Pages that show what changes while they are hidden (the portions left of a menu, my parcels): the page's
// load() runs again when it is shown after the first time (back from another page or the background),
// and on a pull-down (the page's .json sets enablePullDownRefresh), which stops once it is answered.
//
//   Component({ behaviors: [require('…/behaviors/reload')], methods: { onLoad() { return this.load(); }, load() {…} } });
module.exports = Behavior({
  methods: {
    onShow() {
      if (this.shown) return this.load();
      this.shown = true;
      return undefined;
    },

    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh());
    },
  },
});
