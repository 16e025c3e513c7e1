// A repair from the API -> what the pages show: basics(r), the fields every view of a repair has, and
// summary(r), a list row.
const status = require('../../utils/repair-status');
const time = require('../../utils/time');

function basics(r) {
  return {
    id: r.id,
    status: r.status,
    statusLabel: status.statusLabel(r.status),
    tone: status.statusTone(r.status),
    urgent: r.urgency === 'urgent',
    overdue: Boolean(r.overdue),
    linked: Boolean(r.linked),
    category: (r.category && r.category.name) || '报修',
    icon: (r.category && r.category.icon) || '🔧',
    place: r.place_name,
    description: r.description,
    reporter: r.reporter_name,
    assignee: r.assignee_name || '',
  };
}

function summary(r) {
  return Object.assign(basics(r), {
    pool: Boolean(r.pool),
    assigneeId: r.assignee_id,
    time: time.formatRelative(r.created_at),
    due: r.due_at ? time.formatDateTime(r.due_at) : '',
  });
}

module.exports = { basics, summary };
