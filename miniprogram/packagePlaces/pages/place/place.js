// A place (campus, building, floor or room) opened by ?code= or straight from its QR code's scene,
// with what can be done there.
const placesApi = require('../../../api/places');
const scene = require('../../../utils/scene');
const tiles = require('../../../utils/tiles');
const routes = require('../../../utils/routes');

const KIND_LABELS = { campus: '校区', building: '楼栋', floor: '楼层', room: '房间' };

function codeFrom(query) {
  if (query && query.code) {
    try {
      return decodeURIComponent(query.code);
    } catch (e) {
      return query.code;
    }
  }
  const target = scene.parseScene(query);
  return target && target.type === 'place' ? target.code : '';
}

// "东校区 › 行政楼 › 3F › 301": from the campus down to the place itself, whether or not the
// API's `path` includes the place.
function pathText(place) {
  const path = (place.path || []).slice();
  if (!path.length || path[path.length - 1].id !== place.id) path.push(place);
  return path.map(item => item.name).join(' › ');
}

Component({
  data: {
    loading: true,
    place: null,
    kindLabel: '',
    pathText: '',
    actions: tiles.PLACE_ACTIONS,
    needBind: false,
    errorTitle: '',
    error: '',
  },

  methods: {
    onLoad(query) {
      const code = codeFrom(query);
      if (!code) {
        this.setData({ loading: false, errorTitle: '无法识别的场所码', error: '请重新扫描房间内的二维码' });
        return undefined;
      }
      return this.load(code);
    },

    load(code) {
      this.setData({ loading: true, error: '', needBind: false });
      return placesApi.getByCode(code, { silent: true }).then(
        place => {
          this.setData({ loading: false, place, kindLabel: KIND_LABELS[place.kind] || '', pathText: pathText(place) });
          wx.setNavigationBarTitle({ title: place.name });
        },
        err => {
          const notFound = err.statusCode === 404;
          this.setData({
            loading: false,
            needBind: err.error_code === 'auth.not_bound',
            errorTitle: notFound ? '未找到该场所' : '加载失败',
            error: notFound ? '二维码可能已失效，请联系后勤管理员' : err.message,
          });
        }
      );
    },

    onAction(e) {
      const action = tiles.findTile(e.detail.name, tiles.PLACE_ACTIONS);
      if (!action || !action.ready) wx.showToast({ title: '即将上线', icon: 'none' });
      else wx.navigateTo({ url: action.url + '?place_id=' + this.data.place.id });
    },

    goBind() {
      wx.switchTab({ url: routes.ME });
    },
  },
});
