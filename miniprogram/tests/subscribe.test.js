const { installWx, envelope, flush } = require('./helpers/wx');
const fx = require('./helpers/fixtures');
const subscribe = require('../services/subscribe');
const tokens = require('../services/tokens');

const TEMPLATES = '/api/v1/notifications/templates';
const SUBSCRIPTIONS = '/api/v1/notifications/subscriptions';

const TEMPLATE_LIST = [
  { event: 'meetings.reminder', template_id: 'T-MEET', title: '会议提醒' },
  { event: 'notifications.notice', template_id: 'T-NOTICE', title: '后勤通知' },
  { event: 'repairs.assigned', template_id: 'T-ASSIGNED', title: '派单通知' },
  { event: 'repairs.completed', template_id: 'T-DONE', title: '维修完成通知' },
  { event: 'repairs.submitted', template_id: 'T-NEW', title: '新报修通知' },
];

let mock;

beforeEach(() => {
  mock = installWx();
  tokens.save(fx.tokens('a'));
  subscribe.reset();
  mock.route('GET', TEMPLATES, [200, TEMPLATE_LIST]);
  mock.route('POST', SUBSCRIPTIONS, req => [200, { remaining: Object.keys(req.data.results).reduce((o, id) => Object.assign(o, { [id]: 1 }), {}) }]);
  jest.spyOn(console, 'warn').mockImplementation(() => {});
});

afterEach(() => console.warn.mockRestore());

// wx.requestSubscribeMessage answering `answers` (template id -> accept/reject/ban/filter).
function answering(answers) {
  mock.wx.requestSubscribeMessage.mockImplementation(o => {
    setTimeout(() => o.success(Object.assign({ errMsg: 'requestSubscribeMessage:ok' }, answers)), 0);
  });
}

describe('subscribe.askFor', () => {
  test('accept: asks for the events’ templates and reports the result without errMsg', async () => {
    const res = await subscribe.askFor(['repairs.assigned', 'repairs.completed']);

    expect(mock.wx.requestSubscribeMessage).toHaveBeenCalledWith(expect.objectContaining({ tmplIds: ['T-ASSIGNED', 'T-DONE'] }));
    expect(mock.calls('POST', SUBSCRIPTIONS).map(r => r.data)).toEqual([{ results: { 'T-ASSIGNED': 'accept', 'T-DONE': 'accept' } }]);
    expect(res).toEqual({ accepted: ['T-ASSIGNED', 'T-DONE'], rejected: [] });
    expect(mock.wx.showToast).not.toHaveBeenCalled();
  });

  test('reject and ban are reported too and resolve as rejected', async () => {
    answering({ 'T-MEET': 'reject', 'T-NOTICE': 'ban' });

    const res = await subscribe.askFor(['meetings.reminder', 'notifications.notice']);

    expect(res).toEqual({ accepted: [], rejected: ['T-MEET', 'T-NOTICE'] });
    expect(mock.calls('POST', SUBSCRIPTIONS)[0].data).toEqual({ results: { 'T-MEET': 'reject', 'T-NOTICE': 'ban' } });
  });

  test('a mixed answer splits accepted and rejected', async () => {
    answering({ 'T-ASSIGNED': 'accept', 'T-DONE': 'filter' });
    await expect(subscribe.askFor(['repairs.assigned', 'repairs.completed'])).resolves.toEqual({ accepted: ['T-ASSIGNED'], rejected: ['T-DONE'] });
  });

  test('a failed wx.requestSubscribeMessage is logged, reports nothing and does not throw', async () => {
    mock.wx.requestSubscribeMessage.mockImplementation(o => {
      setTimeout(() => o.fail({ errMsg: 'requestSubscribeMessage:fail can only be invoked by user TAP gesture.', errCode: 10005 }), 0);
    });

    await expect(subscribe.askFor(['notifications.notice'])).resolves.toEqual({ accepted: [], rejected: [] });

    expect(mock.calls('POST', SUBSCRIPTIONS)).toHaveLength(0);
    expect(console.warn).toHaveBeenCalled();
  });

  test('no template for the events: WeChat is not asked', async () => {
    await expect(subscribe.askFor(['meals.ready'])).resolves.toEqual({ accepted: [], rejected: [] });
    await expect(subscribe.askFor([])).resolves.toEqual({ accepted: [], rejected: [] });

    expect(mock.wx.requestSubscribeMessage).not.toHaveBeenCalled();
    expect(mock.calls('POST', SUBSCRIPTIONS)).toHaveLength(0);
  });

  test('more than 3 templates: the first 3, in the order of the events', async () => {
    await subscribe.askFor(['repairs.submitted', 'repairs.completed', 'meetings.reminder', 'notifications.notice']);
    expect(mock.wx.requestSubscribeMessage.mock.calls[0][0].tmplIds).toEqual(['T-NEW', 'T-DONE', 'T-MEET']);

    await subscribe.askFor(subscribe.ALL);
    expect(mock.wx.requestSubscribeMessage.mock.calls[1][0].tmplIds).toEqual(['T-MEET', 'T-NOTICE', 'T-ASSIGNED']);
  });

  test('templates are loaded once per launch', async () => {
    await subscribe.askFor(['repairs.assigned']);
    await subscribe.askFor(['notifications.notice']);
    expect(mock.calls('GET', TEMPLATES)).toHaveLength(1);
  });

  test('once preloaded, WeChat is asked in the same tick as the tap (no await in between)', async () => {
    await subscribe.preload();

    const pending = subscribe.askFor(['notifications.notice']);
    expect(mock.wx.requestSubscribeMessage).toHaveBeenCalledTimes(1);

    await pending;
  });

  test('templates that cannot be loaded: nothing asked, no toast, a later call tries again', async () => {
    mock.route('GET', TEMPLATES, { fail: 'request:fail' });
    await expect(subscribe.askFor(['notifications.notice'])).resolves.toEqual({ accepted: [], rejected: [] });
    expect(mock.wx.requestSubscribeMessage).not.toHaveBeenCalled();
    expect(mock.wx.showToast).not.toHaveBeenCalled();

    mock.route('GET', TEMPLATES, [200, TEMPLATE_LIST]);
    await expect(subscribe.askFor(['notifications.notice'])).resolves.toEqual({ accepted: ['T-NOTICE'], rejected: [] });
  });

  test('a report the backend refuses still resolves the answer', async () => {
    mock.route('POST', SUBSCRIPTIONS, [422, envelope(422, 'notifications.unknown_template', '未知的消息模板')]);

    await expect(subscribe.askFor(['notifications.notice'])).resolves.toEqual({ accepted: ['T-NOTICE'], rejected: [] });
    expect(mock.wx.showToast).not.toHaveBeenCalled();
  });

  test('a base library without wx.requestSubscribeMessage: nothing asked', async () => {
    delete mock.wx.requestSubscribeMessage;
    await expect(subscribe.askFor(['notifications.notice'])).resolves.toEqual({ accepted: [], rejected: [] });
    await flush();
    expect(mock.requests).toHaveLength(0);
  });

  test('wx.requestSubscribeMessage throwing does not reach the caller', async () => {
    mock.wx.requestSubscribeMessage.mockImplementation(() => {
      throw new Error('boom');
    });
    await expect(subscribe.askFor(['notifications.notice'])).resolves.toEqual({ accepted: [], rejected: [] });
  });
});
