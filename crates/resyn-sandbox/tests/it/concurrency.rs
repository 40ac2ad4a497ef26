//! Many environments, many workers, many threads: no cross-talk, bounded pool.

use resyn_core::Environment;
use resyn_sandbox::PythonEnv;

use crate::common::sandbox;

fn scaled(k: u32) -> PythonEnv {
    let src = format!(
        r#"
NAME = "scaled_{k}"
CATEGORY = "math"
DESCRIPTION = "Multiply by {k}."
FACTOR = {k}

def generate(rng, difficulty):
    x = rng.randint(1, 10 ** 6)
    return {{"prompt": "Multiply %d by {k}." % x, "data": {{"x": x, "factor": FACTOR}}, "reference": str(x * FACTOR)}}

def verify(instance, answer):
    d = instance["data"]
    assert d["factor"] == FACTOR, "instance of another environment"
    return answer.strip() == str(d["x"] * FACTOR)
"#
    );
    PythonEnv::from_source(&format!("scaled_{k}.py"), src, sandbox()).unwrap()
}

#[test]
fn many_envs_on_many_threads_do_not_cross_talk() {
    let envs: Vec<PythonEnv> = (2..14).map(scaled).collect();
    std::thread::scope(|s| {
        for (t, env) in envs.iter().enumerate() {
            s.spawn(move || {
                for round in 0..3u64 {
                    let reqs: Vec<(u64, u8)> = (0..20)
                        .map(|i| (round * 100 + i, 1 + (i % 10) as u8))
                        .collect();
                    let insts: Vec<_> = env
                        .generate_batch(&reqs)
                        .into_iter()
                        .map(|r| r.unwrap())
                        .collect();
                    for inst in &insts {
                        assert_eq!(inst.env, env.meta().id);
                        assert_eq!(inst.data["factor"], u64::try_from(t).unwrap() + 2);
                    }
                    let wrong: Vec<String> = insts
                        .iter()
                        .map(|i| format!("<answer>{}</answer>", i.data["x"]))
                        .collect();
                    let mut items: Vec<(&resyn_core::Instance, &str)> =
                        insts.iter().map(|i| (i, i.reference.as_str())).collect();
                    items.extend(insts.iter().zip(&wrong).map(|(i, w)| (i, w.as_str())));
                    let v = env.verify_batch(&items);
                    assert!(v[..20].iter().all(|v| v.correct), "{:?}", &v[..20]);
                    assert!(v[20..].iter().all(|v| v.reward == 0.0), "{:?}", &v[20..]);
                }
            });
        }
    });
    let stats = sandbox().stats();
    assert!(stats.live <= 8, "{stats:?}");
}

#[test]
fn large_batches_are_split_across_workers_and_keep_order() {
    let env = scaled(97);
    let reqs: Vec<(u64, u8)> = (0..1500).map(|s| (s, 5)).collect();
    let insts: Vec<_> = env
        .generate_batch(&reqs)
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    for (inst, &(seed, _)) in insts.iter().zip(&reqs) {
        assert_eq!(inst.seed, seed);
    }
    let items: Vec<_> = insts.iter().map(|i| (i, i.reference.as_str())).collect();
    assert!(env.verify_batch(&items).iter().all(|v| v.correct));
    // Same seeds, one at a time: identical instances.
    for (inst, &(seed, d)) in insts.iter().zip(&reqs).step_by(250) {
        assert_eq!(&env.generate(seed, d).unwrap(), inst);
    }
}
