"""Figures 22-24 of the paper: the generative model (section 6, 6.3.2). A genuine/fake
classifier of iDE codes with a false-positive allowance filters samples of the code; the
accepted ones decode to generated digits.

    python compare/fig22_24.py --quick [--data-dir DIR]   # 2000 digits, 5 epochs
    python compare/fig22_24.py [--data-dir DIR]           # the paper's settings, 20 epochs
    (--threads 2: the classifier on two OpenMP threads, the same results as one)

The autoencoder is the one compare/fig20_21.py saved (compare/results/fig20_21_autoencoder.npz);
without it, one is trained here first (fig20_21's quick settings, --ae-epochs). Settings of the
paper for the classifier: 10 -> 50 -> 50 -> 50 -> 2, ReLU, beta 1, Omega 5, Upsilon 1,
Delta 0.1, fpa 25%, the encodings of 10^4 training digits (genuine) and 2 x 10^4 samples of the
iDE code (fake), batches of 500, 1000 RRR iterations per batch, 20 epochs (3400 GWMs); the
test set is built the same way from the test digits. Quick mode: 2000 digits (and 4000 fakes),
5 epochs.
Writes compare/results/fig22_24.csv (fp and tn per epoch on batches, training and test sets:
Figs 22-23) and fig24_generated.png (50 generated digits), and prints the acceptance rate.
"""
import argparse


from _classify import load_mnist_10k
from _common import markdown_table, results_path, timed, write_csv, plt
from fig20_21 import autoencoder, image_grid
import lwl
from lwl import RRRFPAClassifier, RRRGenerator

PAPER = {"test_fp": 0.316, "train_fp": 0.285}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--data-dir", default=None, help="MNIST location (see lwl.datasets.load_mnist)")
    ap.add_argument("--ae-epochs", type=int, default=8,
                    help="epochs of the autoencoder trained here when fig20_21.py saved none")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None,
                    help="RRRFPAClassifier n_jobs (OpenMP; the same results as one thread)")
    args = ap.parse_args()
    plt.require()
    n_train = 2000 if args.quick else 10_000
    X, _, X_test, _ = load_mnist_10k(args.data_dir)
    X, X_test = X[:n_train], X_test[:n_train]

    saved = results_path("fig20_21_autoencoder.npz")
    if saved.is_file():
        ae = lwl.load(saved)
        print(f"autoencoder from {saved}: {ae.gwms_:.0f} GWMs of training on "
              f"{len(ae.code_distribution_)} digits, data_err {ae.data_err_:.4f}")
    else:
        print(f"no {saved}: training an autoencoder on {n_train} digits, {args.ae_epochs} "
              "epochs first", flush=True)
        ae = autoencoder(args.ae_epochs, args.seed).fit(X)
    clf = RRRFPAClassifier((50, 50, 50), margin=0.1, omega=5.0, upsilon=1.0, beta=1.0,
                           batch_size=500, rrr_iter=1000,
                           epochs=5 if args.quick else 20, fpa=0.25, random_state=args.seed,
                           verbose=1, n_jobs=args.threads)
    gen = RRRGenerator(ae, clf, prefit=True, random_state=args.seed)
    _, sec = timed(gen.fit, X, X_test=X_test)

    h = gen.classifier_.history_
    keys = ("batch_fp", "batch_tn", "train_fp", "train_tn", "test_fp", "test_tn")
    rows = [dict(epoch=e, gwms=g, **{k: h[k][i] for k in keys})
            for i, (e, g) in enumerate(zip(h["epoch"], h["gwms"]))]
    path = write_csv("fig22_24.csv", rows)
    images, rate = gen.sample(50, random_state=args.seed)
    fig, ax = plt.subplots(figsize=(10, 3.5))
    image_grid(ax, images, title=f"50 generated digits, acceptance rate {rate:.1%} "
                                 "(cf. paper Fig 24)")
    fig.savefig(results_path("fig24_generated.png"), dpi=110, bbox_inches="tight")
    print()
    print(markdown_table(["", "ours", "paper"], [
        ["classifier GWMs", f"{gen.classifier_.gwms_:.0f}", "3400"],
        ["classifier state, threads, status",
         f"{gen.classifier_.coefs_[0].dtype}, {args.threads or 1}, {gen.classifier_.status_}", "-"],
        ["train fp / tn, last epoch", f"{h['train_fp'][-1]:.3f} / {h['train_tn'][-1]:.3f}",
         f"{PAPER['train_fp']} / still decreasing"],
        ["test fp / tn, last epoch", f"{h['test_fp'][-1]:.3f} / {h['test_tn'][-1]:.3f}",
         f"{PAPER['test_fp']} / -"],
        ["acceptance rate of new iDE samples", f"{rate:.3f}", f"{PAPER['test_fp']} (test fp)"],
        ["seconds", f"{sec:.0f}", "-"]]))
    print(f"wrote {path} and {results_path('fig24_generated.png')}")


if __name__ == "__main__":
    main()
