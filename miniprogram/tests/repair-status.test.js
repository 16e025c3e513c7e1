// Every status of app/repairs/states.py has a Chinese label here. The fixture is a copy of the
// backend's `class Status` (and the action labels of ACTION_LABELS): add a status there, copy it here.
const status = require('../utils/repair-status');

const BACKEND_STATUSES = ['submitted', 'assigned', 'accepted', 'in_progress', 'on_hold', 'completed', 'confirmed', 'cancelled'];
const BACKEND_ACTIONS = ['submit', 'assign', 'accept', 'decline', 'transfer', 'start', 'hold', 'resume', 'complete', 'confirm', 'auto_confirm', 'cancel', 'reopen', 'reprioritise', 'link', 'add_photos', 'escalate'];
const BACKEND_URGENCIES = ['normal', 'urgent'];

describe('repair status labels', () => {
  test.each(BACKEND_STATUSES)('status %s has a Chinese label and a tone', s => {
    expect(status.STATUS_LABELS[s]).toMatch(/^[\u4e00-\u9fa5]+$/);
    expect(['wait', 'work', 'done', 'closed']).toContain(status.STATUS_TONES[s]);
  });

  test('no label for a status the backend does not have', () => {
    expect(Object.keys(status.STATUS_LABELS).sort()).toEqual(BACKEND_STATUSES.slice().sort());
  });

  test('the labels the backend uses', () => {
    expect(status.statusLabel('submitted')).toBe('待派单');
    expect(status.statusLabel('completed')).toBe('待确认');
    expect(status.statusLabel('confirmed')).toBe('已完成');
    expect(status.statusLabel('mystery')).toBe('mystery');
  });

  test.each(BACKEND_ACTIONS)('timeline action %s has a label', a => {
    expect(status.actionLabel(a)).toMatch(/[\u4e00-\u9fa5]/);
  });

  test('urgencies', () => {
    BACKEND_URGENCIES.forEach(u => expect(status.urgencyLabel(u)).toMatch(/^[\u4e00-\u9fa5]+$/));
  });
});
