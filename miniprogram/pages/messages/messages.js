// 消息: the in-app inbox. It lists notifications once the notifications feature ships its list
// endpoint; until then it is an empty state and pull-down refresh only closes the spinner.
Component({
  methods: {
    onPullDownRefresh() {
      wx.stopPullDownRefresh();
    },
  },
});
