// 驿站 (station staff): each bank's status (online or not, free compartments by size, parcels waiting) and
// its compartments out of service, each with 恢复 (after a confirm; POST /compartments/{id}/restore); the
// hand-over of a counter parcel against its pickup code, typed or scanned from the recipient's QR
// (…parcel-pickup?code=…); the parcels waiting on the counter's shelf (behaviors/list, oldest first).
const lockersApi = require('../../../api/lockers');
const list = require('../../../behaviors/list');
const scan = require('../../../services/scan');
const view = require('../../lib/view');

function toast(title) {
  wx.showToast({ title, icon: 'none' });
}

Component({
  behaviors: [list],

  data: {
    banks: [],
    broken: [],
    banksError: '',
    code: '',
    busy: false,
    handed: null, // {ok: true, parcel} | {ok: false, message}
    restoringId: 0,
  },

  methods: {
    onLoad() {
      return Promise.all([this.loadBanks(), this.reload()]);
    },

    onPullDownRefresh() {
      return Promise.all([this.loadBanks(), this.reload()]).then(() => wx.stopPullDownRefresh());
    },

    fetchPage(page, pageSize) {
      return lockersApi.counterParcels({ page, page_size: pageSize }, { silent: true });
    },

    listItem(raw) {
      return view.stationParcel(raw);
    },

    loadBanks() {
      return lockersApi.banks({ silent: true }).then(
        rows => {
          const banks = rows.map(view.bank);
          this.setData({ banks, banksError: '' });
          return this.loadBroken(banks);
        },
        err => this.setData({ banksError: view.errorMessage(err) })
      );
    },

    // the compartments out of service of the banks that have any
    loadBroken(banks) {
      const asked = banks.filter(b => b.outOfService > 0);
      return Promise.all(asked.map(b => lockersApi.compartments(b.id, { silent: true }).then(rows => rows.map(c => ({ bank: b.name, c })), () => [])))
        .then(lists => {
          const broken = [].concat.apply([], lists)
            .filter(x => x.c.status === 'out_of_service')
            .map(x => ({ id: x.c.id, bank: x.bank, label: x.c.label, size: x.c.size, holdsParcel: x.c.holds_parcel }));
          this.setData({ broken });
        });
    },

    onRestore(e) {
      const id = Number(e.currentTarget.dataset.id);
      const unit = this.data.broken.filter(b => b.id === id)[0];
      if (!unit || this.data.restoringId) return undefined;
      return new Promise(resolve => {
        wx.showModal({
          title: '恢复格口',
          content: unit.bank + ' ' + unit.label + ' 号格口的柜门已修好？恢复后将重新用于投递',
          confirmText: '恢复',
          cancelText: '取消',
          success: res => resolve(Boolean(res.confirm)),
        });
      }).then(ok => {
        if (!ok) return undefined;
        this.setData({ restoringId: id });
        return lockersApi.restore(id, { silent: true }).then(
          () => {
            this.setData({ restoringId: 0 });
            toast('已恢复使用');
            return this.loadBanks();
          },
          err => {
            this.setData({ restoringId: 0 });
            toast(view.errorMessage(err));
            return this.loadBanks();
          }
        );
      });
    },

    onCodeInput(e) {
      this.setData({ code: String(e.detail.value || '').replace(/\D/g, '').slice(0, 6) });
    },

    onScan() {
      if (this.data.busy) return undefined;
      return scan.text().then(scanned => {
        if (scanned === null) return undefined; // closed the camera
        const code = view.pickupCode(scanned);
        if (!code) {
          this.setData({ handed: { ok: false, message: '不是快递取件码' } });
          return undefined;
        }
        return this.handOver(code);
      });
    },

    onSubmit() {
      if (this.data.busy) return undefined;
      const code = view.pickupCode(this.data.code);
      if (!code) {
        this.setData({ handed: { ok: false, message: '请输入 6 位取件码' } });
        return undefined;
      }
      return this.handOver(code);
    },

    handOver(code) {
      this.setData({ busy: true, handed: null });
      return lockersApi.handOver(code, { silent: true }).then(
        raw => {
          this.setData({ busy: false, code: '', handed: { ok: true, parcel: view.stationParcel(raw) } });
          this.removeItem(raw.id);
          return this.loadBanks();
        },
        err => this.setData({ busy: false, handed: { ok: false, message: view.errorMessage(err) } })
      );
    },
  },
});
