// Page paths used by more than one page.

const ME = '/pages/me/me';
const REPAIR_REPORT = '/packageRepairs/pages/report/report';
const REPAIR_TASKS = '/packageRepairs/pages/tasks/tasks';
const REPAIR_QUEUE = '/packageRepairs/pages/queue/queue';

function placeUrl(code) {
  return '/packagePlaces/pages/place/place?code=' + encodeURIComponent(code);
}

function repairUrl(id) {
  return '/packageRepairs/pages/detail/detail?id=' + id;
}

module.exports = { ME, REPAIR_REPORT, REPAIR_TASKS, REPAIR_QUEUE, placeUrl, repairUrl };
