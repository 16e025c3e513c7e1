const { installWx } = require('../helpers/wx');
const { render, text } = require('../helpers/page');

describe('消息', () => {
  test('shows the empty inbox; pull-down refresh only stops the spinner', async () => {
    const mock = installWx();
    const page = render('pages/messages/messages');

    expect(text(page)).toContain('暂无消息');

    await page.instance.onPullDownRefresh();
    expect(mock.wx.stopPullDownRefresh).toHaveBeenCalledTimes(1);
    expect(mock.requests).toHaveLength(0);
    expect(mock.wx.showToast).not.toHaveBeenCalled();
  });
});
