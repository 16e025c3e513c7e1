// The meeting of a page's ?id (会议详情, 请假): page data {loading, error, meeting, when} and load().
const meetingsApi = require('../../api/meetings');
const labels = require('../../utils/meetings');

const data = { loading: true, error: '', meeting: null, when: '' };

// GET the meeting page.meetingId into the page: {loading: false, error: '', meeting, when} and what
// more(meeting) adds; on failure {loading: false, error: why}. Resolves with the meeting, or null.
function load(page, more) {
  return meetingsApi.get(page.meetingId, { silent: true }).then(
    meeting => {
      const when = labels.timeRange(meeting.starts_at, meeting.ends_at);
      page.setData(Object.assign({ loading: false, error: '', meeting, when }, more ? more(meeting) : {}));
      return meeting;
    },
    err => {
      page.setData({ loading: false, error: err.message });
      return null;
    }
  );
}

module.exports = { data, load };
