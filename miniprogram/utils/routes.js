// Page paths used by more than one page.

const ME = '/pages/me/me';
const MEETINGS = '/packageMeetings/pages';

function placeUrl(code) {
  return '/packagePlaces/pages/place/place?code=' + encodeURIComponent(code);
}

function query(params) {
  const parts = Object.keys(params)
    .filter(key => params[key] !== undefined && params[key] !== null && params[key] !== '')
    .map(key => key + '=' + encodeURIComponent(params[key]));
  return parts.length ? '?' + parts.join('&') : '';
}

const meetings = {
  list: () => MEETINGS + '/list/list',
  detail: id => MEETINGS + '/detail/detail' + query({ id }),
  edit: id => MEETINGS + '/edit/edit' + query({ id }),
  live: id => MEETINGS + '/live/live' + query({ id }),
  report: id => MEETINGS + '/report/report' + query({ id }),
  leaves: meetingId => MEETINGS + '/leaves/leaves' + query({ meeting: meetingId }),
  leave: id => MEETINGS + '/leave/leave' + query({ id }),
  // a scanned target: {type: 'checkin', code: token, geo} or {type: 'meeting', code}
  checkin: target =>
    MEETINGS +
    '/checkin/checkin' +
    (target.type === 'checkin' ? query({ t: target.code, g: target.geo ? '1' : '' }) : query({ code: target.code })),
};

module.exports = { ME, placeUrl, meetings };
